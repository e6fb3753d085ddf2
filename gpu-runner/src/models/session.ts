/**
 * One model session on its own worker thread (see session-worker.ts): started, checked against
 * the card, and driven by messages. A session that dies (the thread exits or throws) fails its
 * pending runs with SessionUnavailableError and reports the death through `died`; bringing it
 * back is the supervisor's job (supervisor.ts).
 */
import { Worker } from "node:worker_threads";
import { cardOutputNames, type ModelCard } from "@faceage/contracts/card";
import type { BatchOutputs } from "../batching/index.js";
import type { ExecutionProvider } from "../config/index.js";
import type { Logger } from "../log/index.js";
import type { SessionWorkerData, SessionWorkerMessage, SessionWorkerReply } from "./session-worker.js";

/** The model has no running session right now (it died, or is being restarted): retry shortly. */
export class SessionUnavailableError extends Error {
  override name = "SessionUnavailableError";
}

export interface SessionOptions {
  providers: ExecutionProvider[];
  intraOpThreads: number;
  intraOpSpinning: boolean;
  logger: Logger;
}

export interface Session {
  provider: ExecutionProvider;
  /** Runs the model on `n` crops of `itemShape` concatenated in `input`. */
  run(input: Uint8Array, n: number): Promise<BatchOutputs>;
  /** Resolves with a reason when the thread dies other than through `close`. */
  died: Promise<string>;
  close(): Promise<void>;
  /** Test hook: makes the thread die of an uncaught error. */
  crash(): void;
}

// Compiled (gpu-runner/dist, `npm -w gpu-runner start`, the image): the worker is the compiled
// session-worker.js, started directly (it inherits the process's flags: --conditions).
// From source under tsx (tests, `npm run runner`): a worker thread does not inherit tsx's loader
// on Node 20, so the worker is bootstrapped through tsx's API, resolved from this module (tsx is
// a devDependency: never resolved in the compiled runner).
const COMPILED = import.meta.url.endsWith(".js");
function newSessionWorker(workerData: SessionWorkerData, name: string): Worker {
  if (COMPILED) return new Worker(new URL("./session-worker.js", import.meta.url), { workerData, name });
  const workerUrl = new URL("./session-worker.ts", import.meta.url).href;
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ tsImport }) => tsImport(${JSON.stringify(workerUrl)}, ${JSON.stringify(workerUrl)}))`;
  return new Worker(bootstrap, { eval: true, workerData, name });
}

/** Providers that already failed in this process: not retried for every further model. */
const unavailable = new Set<ExecutionProvider>();

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Every output the graph must have: the served head's and each rater panel head's. */
export function outputNamesOf(card: ModelCard): string[] {
  return cardOutputNames(card);
}

export function itemShapeOf(card: ModelCard): number[] {
  const { size, channels, layout } = card.input;
  return layout === "NHWC" ? [size, size, channels] : [channels, size, size];
}

/** Starts a session worker for `card`, trying `providers` in order. */
export async function startSession(card: ModelCard, weights: Uint8Array, options: SessionOptions): Promise<Session> {
  const providers = options.providers.filter((p) => !unavailable.has(p));
  if (providers.length === 0) throw new Error(`${card.name}: none of the providers [${options.providers.join(",")}] works on this host`);
  const workerData: SessionWorkerData = {
    name: card.name,
    weights,
    providers,
    intraOpThreads: options.intraOpThreads,
    intraOpSpinning: options.intraOpSpinning,
  };
  const worker = newSessionWorker(workerData, `session:${card.name}`);

  const ready = await new Promise<Extract<SessionWorkerReply, { type: "ready" }>>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`${card.name}: session worker exited with ${code} during start`));
    worker.once("error", reject);
    worker.once("exit", onExit);
    worker.once("message", (reply: SessionWorkerReply) => {
      worker.off("error", reject);
      worker.off("exit", onExit);
      const failures = reply.type === "ready" || reply.type === "failed" ? reply.failures : [];
      for (const f of failures) {
        unavailable.add(f.provider as ExecutionProvider);
        options.logger.warn("execution provider unavailable", { model: card.name, provider: f.provider, reason: f.reason });
      }
      if (reply.type === "ready") resolve(reply);
      else
        reject(new Error(`${card.name}: no execution provider works (${failures.map((f) => `${f.provider}: ${f.reason}`).join(" | ")})`));
    });
  });

  const outputNames = outputNamesOf(card);
  if (!sameNames(ready.inputNames, [card.input.name]) || !sameNames(ready.outputNames, outputNames)) {
    await worker.terminate();
    throw new Error(
      `${card.name}: graph has inputs [${ready.inputNames.join(",")}] and outputs [${ready.outputNames.join(",")}], ` +
        `the card declares [${card.input.name}] and [${outputNames.join(",")}]`,
    );
  }

  const itemShape = itemShapeOf(card);
  const pending = new Map<number, { resolve: (o: BatchOutputs) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let alive = true;
  let closing = false;
  let reportDeath: (reason: string) => void = () => undefined;
  const died = new Promise<string>((resolve) => (reportDeath = resolve));
  worker.on("message", (reply: SessionWorkerReply) => {
    if (reply.type !== "result" && reply.type !== "error") return;
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (!p) return;
    if (reply.type === "error") return p.reject(new Error(`${card.name}: ${reply.message}`));
    for (const [name, out] of Object.entries(reply.outputs)) {
      if (out.type !== "float32") return p.reject(new Error(`${card.name}: output '${name}' is ${out.type}, expected float32`));
    }
    p.resolve(reply.outputs);
  });
  const onDeath = (why: string) => {
    if (!alive) return;
    alive = false;
    for (const p of pending.values())
      p.reject(new SessionUnavailableError(`${card.name}: the model session stopped; it is being restarted`));
    pending.clear();
    if (!closing) reportDeath(why);
  };
  worker.on("error", (e: Error) => onDeath(e.message.slice(0, 200)));
  worker.on("exit", (code) => onDeath(`exit ${code}`));

  return {
    provider: ready.provider as ExecutionProvider,
    died,
    run(input, n) {
      if (!alive) return Promise.reject(new SessionUnavailableError(`${card.name}: the model session is not running`));
      const id = nextId++;
      return new Promise<BatchOutputs>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const whole = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength;
        const message: SessionWorkerMessage = { type: "run", id, input, shape: [n, ...itemShape], inputName: card.input.name };
        // Hand the crop buffer over rather than copying it; a view into a larger buffer is cloned.
        worker.postMessage(message, whole && input.buffer instanceof ArrayBuffer ? [input.buffer] : []);
      });
    },
    crash() {
      if (alive) worker.postMessage({ type: "crash" } satisfies SessionWorkerMessage);
    },
    async close() {
      if (!alive) return;
      closing = true;
      const closed = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      worker.postMessage({ type: "close" } satisfies SessionWorkerMessage);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000))]);
      await worker.terminate();
    },
  };
}
