/**
 * The model card: the one contract between training (Python writes models/<name>.json) and
 * serving (TypeScript reads it). Label vector, input size/layout, calibration and alignment
 * template all come from here; nothing about a model is hard-coded elsewhere.
 */
import { z } from "zod";

const point = z.tuple([z.number(), z.number()]);

export const alignmentTemplateSchema = z.object({
  /** Keypoints in BlazeFace order (right eye, left eye, nose, mouth, right ear, left ear), as fractions of the crop. */
  keypoints: z.array(point).length(6),
  /** Per-keypoint weight in the least-squares similarity fit (ears are unreliable, so lower). */
  weights: z.array(z.number()).length(6),
  source: z.string().optional(),
  n: z.number().optional(),
});

export const modelCardSchema = z.object({
  name: z.string(),
  version: z.string(),
  task: z.enum(["age", "attractiveness"]),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  params: z.number().int().positive(),
  labels: z.object({ min: z.number(), max: z.number(), step: z.number().positive(), k: z.number().int().positive() }),
  input: z.object({
    name: z.string(),
    layout: z.enum(["NHWC", "NCHW"]),
    dtype: z.literal("uint8"),
    size: z.number().int().positive(),
    channels: z.literal(3),
  }),
  outputs: z.object({
    probs: z.object({ name: z.string(), shape: z.array(z.union([z.string(), z.number()])) }),
    value: z.object({ name: z.string(), shape: z.array(z.union([z.string(), z.number()])) }),
    scoremap: z.object({ name: z.string(), shape: z.array(z.union([z.string(), z.number()])) }),
  }),
  calibration: z.object({ temperature: z.number().positive(), interval: z.number(), fitted_on: z.string() }),
  alignment: z.object({ framing: z.string(), size: z.number().int(), template: alignmentTemplateSchema.nullable() }),
  metrics: z.record(z.string(), z.record(z.string(), z.unknown())),
  training: z.record(z.string(), z.unknown()),
  data: z.array(z.record(z.string(), z.unknown())),
  licence: z.string(),
});

export type ModelCard = z.infer<typeof modelCardSchema>;
export type AlignmentTemplate = z.infer<typeof alignmentTemplateSchema>;

/** Validates a parsed card; throws with the zod issues when training and serving disagree. */
export function parseModelCard(json: unknown): ModelCard {
  return modelCardSchema.parse(json);
}

/** The label vector l = [min : step : max] (K entries). */
export function labelVector(card: Pick<ModelCard, "labels">): Float64Array {
  const { min, step, k } = card.labels;
  return Float64Array.from({ length: k }, (_, i) => min + i * step);
}
