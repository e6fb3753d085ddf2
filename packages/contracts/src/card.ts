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

const labelsSchema = z.object({ min: z.number(), max: z.number(), step: z.number().positive(), k: z.number().int().positive() });
const outputSchema = z.object({ name: z.string(), shape: z.array(z.union([z.string(), z.number()])) });
const calibrationSchema = z.object({ temperature: z.number().positive(), interval: z.number(), fitted_on: z.string() });

/** A further head of the same network: another rater panel's scale (e.g. SCUT-FBP5500's 1-5). */
export const panelHeadSchema = z.object({
  dataset: z.string(),
  labels: labelsSchema,
  outputs: z.object({ probs: outputSchema, value: outputSchema }),
  calibration: calibrationSchema,
});

/**
 * How a tier runs this model: one pass, or several views of each aligned crop averaged as
 * distributions: its mirror image (`flip`) and crops scaled about the centre (`zoom`, > 1 tighter),
 * each of those mirrored too when `flip` is set.
 */
export const tierConfigSchema = z.object({ flip: z.boolean(), zoom: z.array(z.number().min(0.5).max(2)).max(4).optional() });
export type TierConfig = z.infer<typeof tierConfigSchema>;

export const modelCardSchema = z.object({
  name: z.string(),
  version: z.string(),
  task: z.enum(["age", "attractiveness"]),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
  params: z.number().int().positive(),
  /** The network: a DLDL-v2 VGG16 at `width`, or (`ensemble`) several answering as one, their distributions averaged. */
  architecture: z
    .looseObject({
      family: z.string(),
      width: z.number().positive(),
      ensemble: z
        .array(z.looseObject({ checkpoint: z.string(), width: z.number().positive() }))
        .min(2)
        .optional(),
    })
    .optional(),
  labels: labelsSchema,
  input: z.object({
    name: z.string(),
    layout: z.enum(["NHWC", "NCHW"]),
    dtype: z.literal("uint8"),
    size: z.number().int().positive(),
    channels: z.literal(3),
  }),
  outputs: z.object({ probs: outputSchema, value: outputSchema, scoremap: outputSchema }),
  calibration: calibrationSchema,
  /** Which rater panel and scale the served head (`outputs`) answers on. */
  panel: z.object({ dataset: z.string(), scale: z.tuple([z.number(), z.number()]) }).optional(),
  /** Further heads, by panel name. */
  panels: z.record(z.string(), panelHeadSchema).optional(),
  /** An age model's beauty cut-off: withhold beauty when the calibrated P(age < 18) is above `risk` (chosen on validation). */
  minor_guard: z.object({ risk: z.number().min(0).max(0.5), chosen_on: z.string() }).optional(),
  /** Per tier this model answers, how it runs; absent in cards exported before tiers were configured. */
  serving: z.object({ tiers: z.record(z.string(), tierConfigSchema) }).optional(),
  alignment: z.object({ framing: z.string(), size: z.number().int(), template: alignmentTemplateSchema.nullable() }),
  metrics: z.record(z.string(), z.record(z.string(), z.unknown())),
  /**
   * How an int8 file was made from the float export (training/dldl/quantize.py): the card's numbers
   * are then the int8 file's. Informational: serving reads the file like any other (QDQ ONNX).
   */
  quantization: z
    .looseObject({
      method: z.string(),
      variant: z.string(),
      calibration: z.looseObject({ split: z.string(), n: z.number().int().positive() }),
      tools: z.record(z.string(), z.string()),
      source: z.looseObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().positive() }),
      command: z.string(),
    })
    .optional(),
  training: z.record(z.string(), z.unknown()),
  data: z.array(z.record(z.string(), z.unknown())),
  licence: z.string(),
});

export type ModelCard = z.infer<typeof modelCardSchema>;
export type PanelHead = z.infer<typeof panelHeadSchema>;
export type AlignmentTemplate = z.infer<typeof alignmentTemplateSchema>;

/** Validates a parsed card; throws with the zod issues when training and serving disagree. */
export function parseModelCard(json: unknown): ModelCard {
  return modelCardSchema.parse(json);
}

/** How `card`'s model runs for `tier`: its `serving.tiers`, declared once, by training/dldl/export.py (TIERS). */
export function tierConfig(card: Pick<ModelCard, "serving" | "name">, tier: string): TierConfig {
  const config = card.serving?.tiers[tier];
  if (!config) throw new Error(`${card.name}: the card does not configure tier ${tier} (re-export it: python3 -m training.dldl.export)`);
  return config;
}

/** How faces are cropped for this model: its alignment template (a card exported without one is refused). */
export function alignmentTemplate(card: Pick<ModelCard, "alignment" | "name">): AlignmentTemplate {
  const template = card.alignment.template;
  if (!template) throw new Error(`${card.name}: the card has no alignment template (re-export it: python3 -m training.dldl.export)`);
  return template;
}

/** Every output the card's graph has: the served head's, then each panel head's. */
export function cardOutputNames(card: ModelCard): string[] {
  const { probs, value, scoremap } = card.outputs;
  const panels = Object.values(card.panels ?? {}).flatMap((p) => [p.outputs.probs.name, p.outputs.value.name]);
  return [probs.name, value.name, scoremap.name, ...panels];
}
