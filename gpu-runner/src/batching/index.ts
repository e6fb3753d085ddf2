/**
 * Dynamic batching, as Triton's dynamic batcher does it: requests queue per model; a batch is
 * dispatched once it holds `maxBatch` rows or its oldest request has waited `windowMs`, and only
 * while the model is idle (one run in flight per model: a busy accelerator gains nothing from a
 * second concurrent run, and the wait is what lets the next batch fill up). Each caller gets back
 * its own rows of every output. The queue is bounded: a full queue refuses at once rather than
 * growing latency without end.
 *
 * A request whose caller has gone away (its `signal` aborted: the edge worker hit its deadline or
 * gave up on the request) leaves the queue at once, so under overload the model runs only for
 * callers that still wait; one whose batch is already running has its rows discarded.
 */

export type OutputData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;
export interface BatchOutput {
  /** dims[0] is the number of rows. */
  dims: number[];
  data: OutputData;
}
export type BatchOutputs = Record<string, BatchOutput>;

/** Runs the model on `n` rows concatenated in `input`. */
export type RunBatch = (input: Uint8Array, n: number) => Promise<BatchOutputs>;

export interface BatchStats {
  rows: number;
  requests: number;
  runSeconds: number;
}

export interface BatcherOptions {
  run: RunBatch;
  /** Most rows in one run; a request with more rows is refused. */
  maxBatch: number;
  windowMs: number;
  /** Most requests waiting (not counting the batch in flight). */
  maxQueue: number;
  /** false: every request runs on its own, in arrival order (the baseline without batching). */
  dynamic: boolean;
  onBatch?: (stats: BatchStats) => void;
  onQueueWait?: (seconds: number) => void;
  onDepth?: (depth: number) => void;
  /** A caller went away: `queued` (dropped before its run) or `running` (its rows are discarded). */
  onCancelled?: (stage: "queued" | "running") => void;
}

export class QueueFullError extends Error {
  override name = "QueueFullError";
}
export class ShuttingDownError extends Error {
  override name = "ShuttingDownError";
}
export class BatchTooLargeError extends Error {
  override name = "BatchTooLargeError";
}
export class CancelledError extends Error {
  override name = "CancelledError";
}

interface Pending {
  input: Uint8Array;
  n: number;
  enqueuedAt: number;
  signal?: AbortSignal;
  resolve: (outputs: BatchOutputs) => void;
  reject: (error: unknown) => void;
}

export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private queuedRows = 0;
  private running = false;
  /** The requests of the batch being run. */
  private inFlight = new Set<Pending>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closing = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: BatcherOptions) {}

  /** Requests waiting for a run (the one in flight is not counted). */
  get depth(): number {
    return this.queue.length;
  }

  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  /** Queues `n` rows; resolves with this request's rows of every output. `signal`: the caller went away. */
  submit(input: Uint8Array, n: number, signal?: AbortSignal): Promise<BatchOutputs> {
    if (this.closing) return Promise.reject(new ShuttingDownError("the runner is shutting down"));
    if (n < 1 || n > this.options.maxBatch) {
      return Promise.reject(new BatchTooLargeError(`a request may carry 1 to ${this.options.maxBatch} rows, got ${n}`));
    }
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new QueueFullError(`the queue is full (${this.options.maxQueue} requests)`));
    }
    if (signal?.aborted) {
      this.options.onCancelled?.("queued");
      return Promise.reject(new CancelledError("the caller went away"));
    }
    return new Promise<BatchOutputs>((resolve, reject) => {
      const item: Pending = { input, n, enqueuedAt: performance.now(), signal, resolve, reject };
      this.queue.push(item);
      this.queuedRows += n;
      this.options.onDepth?.(this.queue.length);
      signal?.addEventListener("abort", () => this.cancel(item), { once: true });
      this.schedule();
    });
  }

  private cancel(item: Pending): void {
    const at = this.queue.indexOf(item);
    if (at < 0) {
      // Already taken into a batch (or answered): the run goes on for the others in it.
      if (this.inFlight.has(item)) this.options.onCancelled?.("running");
      return;
    }
    this.queue.splice(at, 1);
    this.queuedRows -= item.n;
    this.options.onDepth?.(this.queue.length);
    this.options.onCancelled?.("queued");
    item.reject(new CancelledError("the caller went away"));
    this.schedule();
  }

  /** Refuses new work, then resolves once every queued and running request has been answered. */
  drain(): Promise<void> {
    this.closing = true;
    this.schedule();
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queue.length === 0) {
      const waiters = this.idleWaiters.splice(0);
      for (const w of waiters) w();
      return;
    }
    const waited = performance.now() - this.queue[0].enqueuedAt;
    const ready = !this.options.dynamic || this.closing || this.queuedRows >= this.options.maxBatch || waited >= this.options.windowMs;
    if (ready) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.dispatch();
    } else if (!this.timer) {
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.schedule();
        },
        Math.max(0, this.options.windowMs - waited),
      );
    }
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let rows = 0;
    const limit = this.options.dynamic ? this.options.maxBatch : 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0].n <= limit)) {
      const item = this.queue.shift()!;
      batch.push(item);
      rows += item.n;
    }
    this.queuedRows -= rows;
    return batch;
  }

  private async dispatch(): Promise<void> {
    this.running = true;
    const batch = this.takeBatch();
    this.inFlight = new Set(batch);
    this.options.onDepth?.(this.queue.length);
    const started = performance.now();
    for (const item of batch) this.options.onQueueWait?.((started - item.enqueuedAt) / 1000);
    const rows = batch.reduce((s, item) => s + item.n, 0);
    try {
      const input = batch.length === 1 ? batch[0].input : concat(batch.map((b) => b.input));
      const outputs = await this.options.run(input, rows);
      this.options.onBatch?.({ rows, requests: batch.length, runSeconds: (performance.now() - started) / 1000 });
      const parts = split(
        outputs,
        batch.map((b) => b.n),
      );
      for (const [i, item] of batch.entries()) item.resolve(parts[i]);
    } catch (error) {
      for (const item of batch) item.reject(error);
    } finally {
      this.inFlight = new Set();
      this.running = false;
      this.schedule();
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

/** Cuts every output along its first dimension into consecutive pieces of `counts` rows. */
function split(outputs: BatchOutputs, counts: number[]): BatchOutputs[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const parts: BatchOutputs[] = counts.map(() => ({}));
  for (const [name, out] of Object.entries(outputs)) {
    if (out.dims[0] !== total) throw new Error(`output '${name}' has ${out.dims[0]} rows for a batch of ${total}`);
    const rowSize = out.dims.slice(1).reduce((a, b) => a * b, 1);
    let row = 0;
    counts.forEach((n, i) => {
      parts[i][name] = { dims: [n, ...out.dims.slice(1)], data: out.data.subarray(row * rowSize, (row + n) * rowSize) as OutputData };
      row += n;
    });
  }
  return parts;
}
