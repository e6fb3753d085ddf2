/**
 * The model repository, Triton-style: every `<name>.json` card in the models folder describes
 * `<name>.onnx` beside it. A card is validated with the shared schema, the weights must match its
 * sha256 and size, and the ONNX graph's inputs and outputs must match what the card declares; any
 * mismatch stops the runner at start instead of serving wrong numbers. Each model's session lives
 * on its own worker thread (see session-worker.ts).
 */
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { cardOutputNames, parseModelCard, type ModelCard } from "../../../src/models/card";
import type { BatchOutputs } from "../batching";
import type { ExecutionProvider } from "../config";
import type { Logger } from "../log";
import type { SessionWorkerData, SessionWorkerMessage, SessionWorkerReply } from "./session-worker";

export interface LoadedModel {
  card: ModelCard;
  /** The execution provider the session was created with. */
  provider: ExecutionProvider;
  /** Input shape without the batch dimension, e.g. [64, 64, 3] for NHWC. */
  itemShape: number[];
  outputNames: string[];
  /** Runs the model on `n` uint8 crops concatenated in `input`. */
  run(input: Uint8Array, n: number): Promise<BatchOutputs>;
  /** False once the session's worker thread has died. */
  healthy(): boolean;
  close(): Promise<void>;
}

export interface LoadOptions {
  modelsDir: string;
  /** Names to load; empty loads every card in the folder. */
  names: string[];
  providers: ExecutionProvider[];
  intraOpThreads: number;
  intraOpSpinning: boolean;
  logger: Logger;
}

export function itemShapeOf(card: ModelCard): number[] {
  const { size, channels, layout } = card.input;
  return layout === "NHWC" ? [size, size, channels] : [channels, size, size];
}

// The runner runs under tsx; a worker thread does not inherit tsx's loader on Node 20, so the
// worker is bootstrapped through tsx's API, resolved from this module.
const WORKER_URL = new URL("./session-worker.ts", import.meta.url).href;
const TSX_API = import.meta.resolve("tsx/esm/api");
const WORKER_BOOTSTRAP = `import(${JSON.stringify(TSX_API)}).then(({ tsImport }) => tsImport(${JSON.stringify(WORKER_URL)}, ${JSON.stringify(WORKER_URL)}))`;

/** Providers that already failed in this process: not retried for every further model. */
const unavailable = new Set<ExecutionProvider>();

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Starts a session worker for `card`, trying `providers` in order. */
async function startSession(card: ModelCard, weights: Uint8Array, options: LoadOptions): Promise<LoadedModel> {
  const providers = options.providers.filter((p) => !unavailable.has(p));
  if (providers.length === 0) throw new Error(`${card.name}: none of the providers [${options.providers.join(",")}] works on this host`);
  const workerData: SessionWorkerData = {
    name: card.name,
    weights,
    providers,
    intraOpThreads: options.intraOpThreads,
    intraOpSpinning: options.intraOpSpinning,
  };
  const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData, name: `session:${card.name}` });

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
      else reject(new Error(`${card.name}: no execution provider works (${failures.map((f) => `${f.provider}: ${f.reason}`).join(" | ")})`));
    });
  });

  const outputNames = cardOutputNames(card);
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
    if (!closing) options.logger.error("session worker died", { model: card.name, reason: why });
    for (const p of pending.values()) p.reject(new Error(`${card.name}: session worker died`));
    pending.clear();
  };
  worker.on("error", (e: Error) => onDeath(e.message.slice(0, 200)));
  worker.on("exit", (code) => onDeath(`exit ${code}`));

  return {
    card,
    provider: ready.provider as ExecutionProvider,
    itemShape,
    outputNames,
    healthy: () => alive,
    run(input, n) {
      if (!alive) return Promise.reject(new Error(`${card.name}: session worker is not running`));
      const id = nextId++;
      return new Promise<BatchOutputs>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        const whole = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength;
        const message: SessionWorkerMessage = {
          type: "run",
          id,
          input,
          shape: [n, ...itemShape],
          inputName: card.input.name,
        };
        // Hand the crop buffer over rather than copying it; a view into a larger buffer is cloned.
        worker.postMessage(message, whole && input.buffer instanceof ArrayBuffer ? [input.buffer] : []);
      });
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

export async function loadModel(cardPath: string, options: LoadOptions): Promise<LoadedModel> {
  const card = parseModelCard(JSON.parse(await readFile(cardPath, "utf8")));
  const weights = new Uint8Array(await readFile(path.join(path.dirname(cardPath), card.file)));
  if (weights.byteLength !== card.bytes) {
    throw new Error(`${card.name}: ${card.file} has ${weights.byteLength} bytes, the card says ${card.bytes}`);
  }
  const digest = createHash("sha256").update(weights).digest("hex");
  if (digest !== card.sha256) {
    throw new Error(`${card.name}: sha256 of ${card.file} is ${digest}, the card says ${card.sha256}`);
  }
  return startSession(card, weights, options);
}

/** Loads the requested cards (or all of them) from the models folder. */
export async function loadModels(options: LoadOptions): Promise<Map<string, LoadedModel>> {
  const files = (await readdir(options.modelsDir)).filter((f) => f.endsWith(".json")).sort();
  const available = new Map(files.map((f) => [f.slice(0, -".json".length), path.join(options.modelsDir, f)]));
  const names = options.names.length > 0 ? options.names : [...available.keys()];
  if (names.length === 0) throw new Error(`no model cards in ${options.modelsDir}`);
  const models = new Map<string, LoadedModel>();
  try {
    for (const name of names) {
      const cardPath = available.get(name);
      if (!cardPath) throw new Error(`no card ${name}.json in ${options.modelsDir}`);
      const model = await loadModel(cardPath, options);
      models.set(name, model);
      if (model.card.name !== name) throw new Error(`${cardPath} names the model '${model.card.name}'`);
      options.logger.info("model loaded", {
        model: name,
        version: model.card.version,
        provider: model.provider,
        sha256: model.card.sha256,
      });
    }
  } catch (error) {
    await Promise.all([...models.values()].map((m) => m.close()));
    throw error;
  }
  return models;
}
