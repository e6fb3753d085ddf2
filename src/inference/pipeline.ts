import { alignFace } from "../vision/align";
import { decodeImage } from "../vision/decode";
import type { Face, FaceDetector } from "../vision/detect";
import type { RgbImage } from "../vision/image";
import type { AttributeModel, FacePrediction, PredictOptions } from "./model";

export interface AnalyzeOptions extends PredictOptions {
  /** Pixel budget for decoding (see decodeImage). */
  maxPixels?: number;
  /** Keep at most this many faces, largest first (default all). */
  maxFaces?: number;
}

export interface AnalyzedFace extends Face {
  /** Keyed by model card name, e.g. { ThinAgeNet: {value, std, interval90} }. */
  predictions: Record<string, FacePrediction>;
}

/** Milliseconds spent in each phase of one image. */
export interface PhaseTimings {
  decode: number;
  detect: number;
  align: number;
  infer: number;
}

const now = () => globalThis.performance?.now() ?? Date.now();

/**
 * The whole photo path, decode -> detect -> align -> infer, shared by the API, the CLIs and the
 * bench so that served and evaluated faces go through the same code. Each model gets its crops
 * aligned to its own card's template and size; all faces of the photo run as one batch per model.
 */
export async function analyzePhoto(
  bytes: Uint8Array,
  detector: FaceDetector,
  models: readonly AttributeModel[],
  options: AnalyzeOptions = {},
): Promise<{ width: number; height: number; faces: AnalyzedFace[]; timings: PhaseTimings }> {
  const t0 = now();
  const image = await decodeImage(bytes, { maxPixels: options.maxPixels });
  const t1 = now();
  const { faces, timings } = await analyzeImage(image, detector, models, options);
  return { width: image.width, height: image.height, faces, timings: { ...timings, decode: t1 - t0 } };
}

/** As analyzePhoto, from decoded pixels (timings.decode is 0). */
export async function analyzeImage(
  image: RgbImage,
  detector: FaceDetector,
  models: readonly AttributeModel[],
  options: AnalyzeOptions = {},
): Promise<{ faces: AnalyzedFace[]; timings: PhaseTimings }> {
  const t0 = now();
  const faces = (await detector.detect(image)).slice(0, options.maxFaces ?? Infinity);
  const t1 = now();
  const crops = models.map((model) => faces.map((face) => alignForModel(image, face, model)));
  const t2 = now();
  const predictions = await Promise.all(models.map((model, m) => model.predict(crops[m], options)));
  const t3 = now();
  return {
    faces: faces.map((face, f) => ({
      ...face,
      predictions: Object.fromEntries(models.map((model, m) => [model.card.name, predictions[m][f]])),
    })),
    timings: { decode: 0, detect: t1 - t0, align: t2 - t1, infer: t3 - t2 },
  };
}

/** The face cropped the way `model` was trained (its card's template and input size). */
export function alignForModel(image: RgbImage, face: Face, model: AttributeModel): RgbImage {
  const template = model.card.alignment.template;
  if (!template) throw new Error(`${model.card.name}: card has no alignment template (re-export it with training/templates)`);
  return alignFace(image, face.keypoints, template, model.card.input.size);
}
