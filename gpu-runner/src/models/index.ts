/**
 * The model repository, Triton-style: every `<name>.json` card in the models folder describes
 * `<name>.onnx` beside it. A card is validated with the shared schema, the weights must match its
 * sha256 and size, and the ONNX graph's inputs and outputs must match what the card declares; any
 * mismatch stops the runner at start instead of serving wrong numbers.
 */
import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import ort from "onnxruntime-node";
import { parseModelCard, type ModelCard } from "../../../src/models/card";
import type { ExecutionProvider } from "../config";
import type { Logger } from "../log";

// ONNX Runtime's native logger writes unstructured lines to stderr; its failures reach us as
// exceptions anyway, which are logged as JSON.
ort.env.logLevel = "fatal";

export interface LoadedModel {
  card: ModelCard;
  session: ort.InferenceSession;
  /** The execution provider the session was created with. */
  provider: ExecutionProvider;
  /** Input shape without the batch dimension, e.g. [64, 64, 3] for NHWC. */
  itemShape: number[];
  outputNames: string[];
}

export interface LoadOptions {
  modelsDir: string;
  /** Names to load; empty loads every card in the folder. */
  names: string[];
  providers: ExecutionProvider[];
  intraOpThreads: number;
  logger: Logger;
}

/** Providers that already failed in this process: not retried for every further model. */
const unavailable = new Map<ExecutionProvider, string>();

export function itemShapeOf(card: ModelCard): number[] {
  const { size, channels, layout } = card.input;
  return layout === "NHWC" ? [size, size, channels] : [channels, size, size];
}

/** Creates a session with the first provider in `providers` that works on this host. */
export async function createSession(
  bytes: Uint8Array,
  providers: ExecutionProvider[],
  intraOpThreads: number,
  logger: Logger,
  modelName: string,
): Promise<{ session: ort.InferenceSession; provider: ExecutionProvider }> {
  const failures: string[] = [];
  for (const provider of providers) {
    const known = unavailable.get(provider);
    if (known) {
      failures.push(`${provider}: ${known}`);
      continue;
    }
    try {
      const session = await ort.InferenceSession.create(bytes, {
        executionProviders: [provider],
        graphOptimizationLevel: "all",
        // ONNX Runtime's own logging would bypass the structured log; keep only its errors.
        logSeverityLevel: 3,
        ...(provider === "cpu" && intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
      });
      return { session, provider };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0].slice(0, 200) : String(error);
      failures.push(`${provider}: ${reason}`);
      unavailable.set(provider, reason);
      logger.warn("execution provider unavailable", { model: modelName, provider, reason });
    }
  }
  throw new Error(`${modelName}: no execution provider works (${failures.join(" | ")})`);
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);
}

export async function loadModel(cardPath: string, options: LoadOptions): Promise<LoadedModel> {
  const card = parseModelCard(JSON.parse(await readFile(cardPath, "utf8")));
  const weightsPath = path.join(path.dirname(cardPath), card.file);
  const bytes = new Uint8Array(await readFile(weightsPath));
  if (bytes.byteLength !== card.bytes) {
    throw new Error(`${card.name}: ${card.file} has ${bytes.byteLength} bytes, the card says ${card.bytes}`);
  }
  const digest = createHash("sha256").update(bytes).digest("hex");
  if (digest !== card.sha256) {
    throw new Error(`${card.name}: sha256 of ${card.file} is ${digest}, the card says ${card.sha256}`);
  }
  const { session, provider } = await createSession(bytes, options.providers, options.intraOpThreads, options.logger, card.name);
  const outputNames = [card.outputs.probs.name, card.outputs.value.name, card.outputs.scoremap.name];
  if (!sameNames(session.inputNames, [card.input.name]) || !sameNames(session.outputNames, outputNames)) {
    await session.release();
    throw new Error(
      `${card.name}: graph has inputs [${session.inputNames.join(",")}] and outputs [${session.outputNames.join(",")}], ` +
        `the card declares [${card.input.name}] and [${outputNames.join(",")}]`,
    );
  }
  return { card, session, provider, itemShape: itemShapeOf(card), outputNames };
}

/** Loads the requested cards (or all of them) from the models folder. */
export async function loadModels(options: LoadOptions): Promise<Map<string, LoadedModel>> {
  const files = (await readdir(options.modelsDir)).filter((f) => f.endsWith(".json")).sort();
  const available = new Map(files.map((f) => [f.slice(0, -".json".length), path.join(options.modelsDir, f)]));
  const names = options.names.length > 0 ? options.names : [...available.keys()];
  const models = new Map<string, LoadedModel>();
  for (const name of names) {
    const cardPath = available.get(name);
    if (!cardPath) throw new Error(`no card ${name}.json in ${options.modelsDir}`);
    const model = await loadModel(cardPath, options);
    if (model.card.name !== name) throw new Error(`${cardPath} names the model '${model.card.name}'`);
    models.set(name, model);
    options.logger.info("model loaded", {
      model: name,
      version: model.card.version,
      provider: model.provider,
      sha256: model.card.sha256,
    });
  }
  if (models.size === 0) throw new Error(`no model cards in ${options.modelsDir}`);
  return models;
}

/** Runs the session on `n` uint8 rows and returns every output as dims + data. */
export async function runModel(model: LoadedModel, input: Uint8Array, n: number) {
  const tensor = new ort.Tensor("uint8", input, [n, ...model.itemShape]);
  const results = await model.session.run({ [model.card.input.name]: tensor });
  const outputs: Record<string, { dims: number[]; data: Float32Array }> = {};
  for (const name of model.outputNames) {
    const t = results[name];
    if (t.type !== "float32") throw new Error(`${model.card.name}: output '${name}' is ${t.type}, expected float32`);
    outputs[name] = { dims: [...t.dims], data: t.data as Float32Array };
  }
  return outputs;
}
