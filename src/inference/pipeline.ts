import { alignFace } from "../vision/align";
import type { DecodeBudget } from "../vision/budget";
import { alignInView, detectFaces, faceViews, type CropSpec } from "../vision/crops";
import type { Face, FaceDetector } from "../vision/detect";
import type { RgbImage } from "../vision/image";
import { Photo } from "../vision/photo";
import type { AttributeModel, FacePrediction, PredictOptions } from "./model";

export interface AnalyzeOptions extends PredictOptions {
  /** Pixel budget for decoding (see src/vision/budget.ts). */
  maxPixels?: number;
  /** The rest of the decode budget. */
  budget?: Partial<DecodeBudget>;
  /** Keep at most this many faces, largest first (default all). */
  maxFaces?: number;
}

export interface AnalyzedFace extends Face {
  /** Keyed by model card name, e.g. { ThinAgeNet: {value, std, interval90} }. */
  predictions: Record<string, FacePrediction>;
}

/** Milliseconds spent in each phase of one image. */
export interface PhaseTimings {
  /** The preview, and any finer re-read of a small face's region. */
  decode: number;
  detect: number;
  align: number;
  infer: number;
}

const now = () => globalThis.performance?.now() ?? Date.now();

/**
 * The whole photo path, decode -> detect -> align -> infer, shared by the API, the CLIs and the
 * bench so that served and evaluated faces go through the same code. The image is decoded only as
 * finely as needed (src/vision/photo.ts); each model gets its crops aligned to its own card's
 * template and size; all faces of the photo run as one batch per model.
 */
export async function analyzePhoto(
  bytes: Uint8Array,
  detector: FaceDetector,
  models: readonly AttributeModel[],
  options: AnalyzeOptions = {},
): Promise<{ width: number; height: number; faces: AnalyzedFace[]; timings: PhaseTimings }> {
  const t0 = now();
  const photo = await Photo.open(bytes, { budget: { ...options.budget, ...(options.maxPixels ? { maxPixels: options.maxPixels } : {}) } });
  const t1 = now();
  const { faces, timings } = await analyzeOpened(photo, detector, models, options);
  return { width: photo.width, height: photo.height, faces, timings: { ...timings, decode: timings.decode + t1 - t0 } };
}

/** As analyzePhoto, from decoded pixels. */
export async function analyzeImage(
  image: RgbImage,
  detector: FaceDetector,
  models: readonly AttributeModel[],
  options: AnalyzeOptions = {},
): Promise<{ faces: AnalyzedFace[]; timings: PhaseTimings }> {
  return analyzeOpened(Photo.fromPixels(image), detector, models, options);
}

/** As analyzePhoto, from an opened Photo (timings.decode: the finer re-reads only). */
export async function analyzeOpened(
  photo: Photo,
  detector: FaceDetector,
  models: readonly AttributeModel[],
  options: AnalyzeOptions = {},
): Promise<{ faces: AnalyzedFace[]; timings: PhaseTimings }> {
  const t0 = now();
  const faces = (await detectFaces(photo, detector)).slice(0, options.maxFaces ?? Infinity);
  const t1 = now();
  const specs = models.map(cropSpec);
  const views = await faceViews(photo, faces, specs);
  const t2 = now();
  const crops = specs.map((spec) => faces.map((face, f) => alignInView(views[f], face.keypoints, spec)));
  const t3 = now();
  const predictions = await Promise.all(models.map((model, m) => model.predict(crops[m], options)));
  const t4 = now();
  return {
    faces: faces.map((face, f) => ({
      ...face,
      predictions: Object.fromEntries(models.map((model, m) => [model.card.name, predictions[m][f]])),
    })),
    timings: { decode: t2 - t1, detect: t1 - t0, align: t3 - t2, infer: t4 - t3 },
  };
}

/** The crop a model was trained on: its card's alignment template and input size. */
export function cropSpec(model: AttributeModel): CropSpec {
  const template = model.card.alignment.template;
  if (!template) throw new Error(`${model.card.name}: card has no alignment template (re-export it with training/templates)`);
  return { template, size: model.card.input.size };
}

/** The face cropped the way `model` was trained, from full-resolution pixels. */
export function alignForModel(image: RgbImage, face: Face, model: AttributeModel): RgbImage {
  const { template, size } = cropSpec(model);
  return alignFace(image, face.keypoints, template, size);
}
