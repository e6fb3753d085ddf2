/**
 * The photo path, decode -> detect -> align -> infer, in one place: the worker (src/api/analyzer.ts,
 * which routes the infer step between tiers), the CLIs, the benches and data preparation all go
 * through these steps, so that served, evaluated and trained-on faces are cropped by the same code.
 * The image is decoded only as finely as needed (src/vision/photo.ts); each model gets its crops
 * aligned to its own card's template and size; all faces of the photo run as one batch per model.
 */
import { alignmentTemplate, type ModelCard } from "@faceage/contracts/card";
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

/** The aligned crops of a photo's faces (in `findFaces` order) for a crop spec. */
export type FaceCrops = (spec: CropSpec) => RgbImage[];

const now = () => performance.now();

/** The crop a model was trained on: its card's alignment template and input size. */
export function cropSpec(card: Pick<ModelCard, "alignment" | "input" | "name">): CropSpec {
  return { template: alignmentTemplate(card), size: card.input.size };
}

/** Detect step: faces found on the photo's preview, in full-size upright pixels, largest first, at most `maxFaces`. */
export async function findFaces(photo: Photo, detector: FaceDetector, maxFaces = Infinity): Promise<Face[]> {
  return (await detectFaces(photo, detector)).slice(0, maxFaces);
}

/**
 * Align step. Reads, for each face, one view fine enough for every spec in `specs` (a small face's
 * region is re-read finer: this is where ImageError can still come from); the crops are then
 * aligned on first request, once per distinct spec (two cards with the same template and size share
 * theirs). A spec not in `specs` is aligned from the same views.
 */
export async function cropFaces(photo: Photo, faces: readonly Face[], specs: readonly CropSpec[]): Promise<FaceCrops> {
  const distinct = new Map(specs.map((spec) => [specKey(spec), spec]));
  const views = await faceViews(photo, faces, [...distinct.values()]);
  const crops = new Map<string, RgbImage[]>();
  return (spec) => {
    const key = specKey(spec);
    let aligned = crops.get(key);
    if (!aligned) {
      aligned = faces.map((face, f) => alignInView(views[f], face.keypoints, spec));
      crops.set(key, aligned);
    }
    return aligned;
  };
}

function specKey({ template, size }: CropSpec): string {
  return JSON.stringify([size, template.keypoints, template.weights]);
}

/** The whole path for every model in `models`, from the photo's bytes. */
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
  const faces = await findFaces(photo, detector, options.maxFaces);
  const t1 = now();
  const specs = models.map((model) => cropSpec(model.card));
  const cropsFor = await cropFaces(photo, faces, specs);
  const t2 = now();
  const crops = specs.map(cropsFor);
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

/** The face cropped the way `model` was trained, from full-resolution pixels. */
export function alignForModel(image: RgbImage, face: Face, model: AttributeModel): RgbImage {
  const { template, size } = cropSpec(model.card);
  return alignFace(image, face.keypoints, template, size);
}
