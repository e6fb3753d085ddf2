/**
 * The model repository, Triton-style: every `<name>.json` card in the models folder describes
 * `<name>.onnx` beside it. A card is validated with the shared schema, the weights must match its
 * sha256 and size, and the ONNX graph's inputs and outputs must match what the card declares; any
 * mismatch stops the runner at start instead of serving wrong numbers. Each model's session lives
 * on its own worker thread (session.ts, session-worker.ts), and is restarted when that thread dies
 * (supervisor.ts); a restart reads and checks the weights again, exactly like the start.
 */
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { parseModelCard, type ModelCard } from "@faceage/contracts/card";
import type { BatchOutputs } from "../batching/index.js";
import type { ExecutionProvider } from "../config/index.js";
import { itemShapeOf, outputNamesOf, startSession, type SessionOptions } from "./session.js";
import { SessionSupervisor, type RestartPolicy, type SessionState } from "./supervisor.js";

export { itemShapeOf } from "./session.js";
export { SessionUnavailableError } from "./session.js";

export interface LoadedModel {
  card: ModelCard;
  /** The execution provider the session was created with. */
  provider: ExecutionProvider;
  /** Input shape without the batch dimension, e.g. [64, 64, 3] for NHWC. */
  itemShape: number[];
  outputNames: string[];
  /** Runs the model on `n` uint8 crops concatenated in `input`; SessionUnavailableError while restarting. */
  run(input: Uint8Array, n: number): Promise<BatchOutputs>;
  /** True while a session runs (readiness). */
  healthy(): boolean;
  /** False once restarts keep failing (liveness). */
  live(): boolean;
  state(): SessionState;
  /** Test hook (RUNNER_TEST_HOOKS=1): the session's thread dies of an uncaught error. */
  crash(): void;
  close(): Promise<void>;
}

export interface LoadOptions extends SessionOptions {
  modelsDir: string;
  /** Names to load; empty loads every card in the folder. */
  names: string[];
  restart: RestartPolicy;
  /** Each restart's outcome, per model (for metrics). */
  onRestart?: (model: string, outcome: "ok" | "failed") => void;
}

/** The weights of `card` from `dir`, checked against the card's size and sha256. */
async function readWeights(card: ModelCard, dir: string): Promise<Uint8Array> {
  const weights = new Uint8Array(await readFile(path.join(dir, card.file)));
  if (weights.byteLength !== card.bytes) {
    throw new Error(`${card.name}: ${card.file} has ${weights.byteLength} bytes, the card says ${card.bytes}`);
  }
  const digest = createHash("sha256").update(weights).digest("hex");
  if (digest !== card.sha256) {
    throw new Error(`${card.name}: sha256 of ${card.file} is ${digest}, the card says ${card.sha256}`);
  }
  return weights;
}

export async function loadModel(cardPath: string, options: LoadOptions): Promise<LoadedModel> {
  const card = parseModelCard(JSON.parse(await readFile(cardPath, "utf8")));
  const dir = path.dirname(cardPath);
  const start = async () => startSession(card, await readWeights(card, dir), options);
  const first = await start();
  const supervisor = new SessionSupervisor(card.name, first, start, options.restart, options.logger, (outcome) =>
    options.onRestart?.(card.name, outcome),
  );
  return {
    card,
    // A restart tries the same providers in the same order (one that failed is skipped and logged).
    provider: first.provider,
    itemShape: itemShapeOf(card),
    outputNames: outputNamesOf(card),
    run: (input, n) => {
      try {
        return supervisor.current().run(input, n);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    healthy: () => supervisor.state === "running",
    live: () => supervisor.live,
    state: () => supervisor.state,
    crash: () => {
      if (supervisor.state === "running") supervisor.current().crash();
    },
    close: () => supervisor.close(),
  };
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
