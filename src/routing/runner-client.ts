/**
 * The edge worker's client for the GPU runner (gpu-runner/, KServe v2 / Open Inference Protocol
 * with binary tensors, encoded by src/runner-protocol so both ends share one codec).
 *
 * Every call has a deadline. Outcomes feed a circuit breaker (stop calling a runner that is down)
 * and an EWMA of latency (stop waiting on a runner that is too slow for a tier's deadline). Both
 * live per isolate, keyed by runner URL, so they persist across requests on the same isolate.
 */
import { decodeInferResponse, encodeInferRequest, type DecodedInferResponse } from "../runner-protocol";
import { CircuitBreaker, type BreakerOptions, type BreakerState } from "./circuit-breaker";
import { Ewma } from "./ewma";

export type RunnerFailureReason = "not-configured" | "breaker-open" | "timeout" | "http" | "network" | "invalid-response";

export class RunnerUnavailable extends Error {
  constructor(
    readonly reason: RunnerFailureReason,
    message: string,
    /** When the breaker is open: milliseconds until it lets a probe through. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "RunnerUnavailable";
  }
}

export interface RunnerClientOptions {
  baseUrl: string;
  secret: string;
  breaker: BreakerOptions;
  /** Injected for service bindings or tests against a local process; defaults to global fetch. */
  fetch?: typeof fetch;
}

export interface InferCall {
  model: string;
  /** N aligned uint8 crops, concatenated row-major (e.g. NHWC). */
  crops: Uint8Array;
  shape: number[];
  outputs: string[];
  deadlineMs: number;
  /** Throws when the runner's answer is not usable (wrong shape, NaN): counts as a failure. */
  validate?: (response: DecodedInferResponse) => void;
}

export interface RunnerHealth {
  configured: boolean;
  breaker: BreakerState;
  latencyEwmaMs: number | undefined;
}

export class RunnerClient {
  readonly breaker: CircuitBreaker;
  readonly latency = new Ewma(0.2);
  private readonly fetchImpl: typeof fetch;
  private lastAttemptAt = 0;

  constructor(private readonly options: RunnerClientOptions) {
    this.breaker = new CircuitBreaker(options.breaker);
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  get health(): RunnerHealth {
    return { configured: true, breaker: this.breaker.state, latencyEwmaMs: this.latency.value };
  }

  /**
   * Whether the runner is expected to answer within `deadlineMs`: the breaker is not open and the
   * latency EWMA is under the deadline. A slow runner still gets a probe `probeEveryMs` after its
   * last answer, so the EWMA can learn that it has recovered.
   */
  expectedWithin(deadlineMs: number, probeEveryMs = 2000, now = Date.now()): boolean {
    if (this.breaker.state === "open") return false;
    const ewma = this.latency.value;
    if (ewma === undefined || ewma < deadlineMs) return true;
    return now - this.lastAttemptAt >= probeEveryMs;
  }

  async infer(call: InferCall): Promise<DecodedInferResponse> {
    if (!this.breaker.tryAcquire()) {
      throw new RunnerUnavailable("breaker-open", "runner circuit breaker is open", this.options.breaker.openMs);
    }
    const started = Date.now();
    this.lastAttemptAt = started;
    const request = encodeInferRequest(call.model, call.crops, call.shape, { outputs: call.outputs, binary: true });
    const timedOut = (err: unknown) => err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await this.fetchImpl(this.options.baseUrl.replace(/\/+$/, "") + request.path, {
        method: "POST",
        body: request.body,
        headers: { ...request.headers, authorization: `Bearer ${this.options.secret}` },
        signal: AbortSignal.timeout(call.deadlineMs),
      });
      // The body can still be streaming when the deadline passes; the same signal covers it.
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      // A timeout counts as the deadline in the latency average; a refused connection as what it took.
      if (timedOut(err)) return this.fail(started, "timeout", `no answer within ${call.deadlineMs} ms`, call.deadlineMs);
      return this.fail(started, "network", "runner unreachable");
    }
    if (!response.ok) return this.fail(started, "http", `runner answered ${response.status}`);
    let decoded: DecodedInferResponse;
    try {
      decoded = decodeInferResponse(bytes, response.headers);
      call.validate?.(decoded);
    } catch {
      return this.fail(started, "invalid-response", "runner answer is not a valid inference response");
    }
    this.breaker.onSuccess();
    this.latency.observe(Date.now() - started);
    this.lastAttemptAt = Date.now();
    return decoded;
  }

  private fail(started: number, reason: RunnerFailureReason, message: string, latencyMs?: number): never {
    this.breaker.onFailure();
    this.latency.observe(latencyMs ?? Date.now() - started);
    this.lastAttemptAt = Date.now();
    throw new RunnerUnavailable(reason, message);
  }
}

const clients = new Map<string, RunnerClient>();

/** The isolate's client for a runner URL (breaker and EWMA are kept across requests). */
export function runnerClientFor(options: RunnerClientOptions): RunnerClient {
  const key = [options.baseUrl, options.secret, options.breaker.failureThreshold, options.breaker.openMs].join("\n");
  let client = clients.get(key);
  if (!client) {
    client = new RunnerClient(options);
    clients.set(key, client);
  }
  return client;
}
