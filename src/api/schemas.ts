/**
 * The v1 contract, defined once: these zod schemas validate requests, describe responses, generate
 * /openapi.json and type the client (src/client). The tiers, attributes and routes declared here
 * are the ones the worker's routing and models use.
 */
import { z } from "@hono/zod-openapi";

export const TIERS = ["fast", "standard", "accurate"] as const;
export const ATTRIBUTES = ["age", "beauty"] as const;
export type Tier = (typeof TIERS)[number];
export type Attribute = (typeof ATTRIBUTES)[number];

const queryBoolean = (description: string) =>
  z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((v) => v === "true" || v === "1")
    .openapi({ description, example: "false" });

export const analyzeQuerySchema = z.object({
  attributes: z
    .string()
    .regex(/^(age|beauty)(,(age|beauty))?$/, "a comma-separated subset of: age, beauty")
    .default("age,beauty")
    .transform((v) => [...new Set(v.split(","))].sort() as Attribute[])
    .openapi({ description: "Which estimates to return: `age`, `beauty` or both (comma-separated).", example: "age,beauty" }),
  tier: z.enum(TIERS).default("standard").openapi({
    description:
      "`fast`: small models inside the edge worker. `standard`: full models on the GPU runner, falling back to the edge models when the runner is slow or down (route `edge-fallback`). `accurate`: full models on the runner, several views of each face averaged (its mirror image and, per model, crops zoomed about the centre, chosen on validation: the most accurate view set no worse than `standard` there, else the mirror alone; `/v1/models` lists each model's `tiers`); 503 instead of degrading.",
  }),
  max_faces: z.coerce
    .number()
    .int()
    .min(1)
    .max(20)
    .default(5)
    .openapi({ description: "Most faces analysed (largest first), 1-20.", example: 5 }),
  distribution: queryBoolean("Include the full calibrated age distribution per face."),
  explain: queryBoolean("Include a score-map heatmap per face and attribute as a PNG data URL."),
});
export type AnalyzeQuery = z.infer<typeof analyzeQuerySchema>;

const point = z.tuple([z.number(), z.number()]).openapi({ description: "[x, y] in image pixels" });

export const boxSchema = z
  .object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() })
  .openapi("Box", { description: "Face box in pixels of the (EXIF-oriented) image; x, y is the top-left corner." });

export const ageSchema = z
  .object({
    value: z.number().openapi({ description: "Expected age in years (the mean of the predicted distribution)." }),
    std: z.number().openapi({ description: "Standard deviation of the predicted distribution, years." }),
    interval90: z.tuple([z.number(), z.number()]).openapi({ description: "5% and 95% quantiles of the calibrated distribution." }),
    distribution: z
      .object({ labels: z.array(z.number()), probs: z.array(z.number()) })
      .optional()
      .openapi({ description: "The calibrated distribution over ages (only with `distribution=true`)." }),
  })
  .openapi("AgeEstimate");

export const beautySchema = z
  .object({
    value: z.number(),
    std: z.number(),
    interval90: z.tuple([z.number(), z.number()]),
    scale: z.tuple([z.literal(1), z.literal(10)]),
  })
  .openapi("BeautyEstimate", { description: "Attractiveness as the average rating raters would give, on a 1-10 scale." });

export const faceSchema = z
  .object({
    box: boxSchema,
    score: z.number().openapi({ description: "Detector confidence, 0-1." }),
    landmarks: z
      .array(point)
      .length(6)
      .openapi({ description: "BlazeFace keypoints: right eye, left eye, nose tip, mouth, right ear, left ear." }),
    age: ageSchema.optional(),
    beauty: beautySchema.optional(),
    withheld: z
      .object({ beauty: z.enum(["possible-minor"]).optional() })
      .optional()
      .openapi({
        description:
          "Estimates asked for but not given, with the reason. `possible-minor`: the face's calibrated P(age < 18) is above the age model's threshold (its card's `minor_guard.risk`, or the operator's), so no attractiveness score is given (age is estimated for this check even when only `beauty` is asked for).",
      }),
    scoremap: z
      .object({ age: z.string().optional(), beauty: z.string().optional() })
      .optional()
      .openapi({ description: "With `explain=true`: per attribute, a PNG data URL of the model's score map over the aligned face." }),
  })
  .openapi("Face");

const modelRef = z.object({ name: z.string(), version: z.string() });

export const routeSchema = z.enum(["edge", "gpu", "edge-fallback"]);
export type Route = z.infer<typeof routeSchema>;

export const analysisSchema = z
  .object({
    image: z.object({
      sha256: z.string().openapi({ description: "SHA-256 of the uploaded bytes (hex)." }),
      width: z.number().int(),
      height: z.number().int(),
    }),
    faces: z.array(faceSchema),
    models: z.object({ detector: modelRef, age: modelRef.optional(), beauty: modelRef.optional() }),
    route: routeSchema.openapi({
      description:
        "Where the estimates ran: `edge` (the worker), `gpu` (the runner), `edge-fallback` (the worker, because the runner was slow or down).",
    }),
    cached: z.boolean(),
    timing_ms: z.number(),
  })
  .openapi("Analysis");
export type Analysis = z.infer<typeof analysisSchema>;

export const problemSchema = z
  .object({
    type: z.string().openapi({ example: "/docs#problem-bad-request" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ name: z.string(), reason: z.string() })).optional(),
  })
  .openapi("Problem", { description: "RFC 9457 problem details." });

export const batchResultSchema = z
  .object({
    index: z.number().int(),
    status: z.number().int(),
    analysis: analysisSchema.optional(),
    problem: problemSchema.optional(),
    retry_after: z
      .number()
      .int()
      .optional()
      .openapi({ description: "Seconds to wait before retrying this image (what `Retry-After` would say for it alone), for a 503." }),
  })
  .openapi("BatchItem", { description: "One image of a batch: `analysis` when `status` is 200, else `problem`." });

export const batchSchema = z.object({ results: z.array(batchResultSchema), timing_ms: z.number() }).openapi("BatchAnalysis");

export const modelCardOutSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    task: z.enum(["age", "attractiveness"]),
    served_by: z.enum(["edge", "runner"]).openapi({
      description: "`edge`: runs inside the worker (tier `fast`, fallback); `runner`: on the GPU runner (`standard`, `accurate`).",
    }),
    sha256: z.string(),
    params: z.number().int(),
    ensemble: z
      .array(z.object({ checkpoint: z.string(), width: z.number() }))
      .optional()
      .openapi({
        description:
          "Present when this model is several networks answering as one (their label distributions averaged, then the expectation): each member's width and its float32 checkpoint in the training repository. `params` counts them all.",
      }),
    input: z.object({ name: z.string(), layout: z.string(), dtype: z.string(), size: z.number(), channels: z.number() }),
    labels: z.object({ min: z.number(), max: z.number(), step: z.number(), k: z.number() }),
    calibration: z.object({ temperature: z.number(), interval: z.number(), fitted_on: z.string() }),
    alignment: z.object({ framing: z.string(), size: z.number() }),
    tiers: z.record(z.string(), z.object({ flip: z.boolean(), zoom: z.array(z.number()).optional() })).openapi({
      description:
        "What each tier this model answers runs: one pass, or several views of each face averaged as distributions (`flip`: the mirror image too; `zoom`: crops scaled about the centre, > 1 tighter, each mirrored when `flip`).",
      example: { standard: { flip: false }, accurate: { flip: true, zoom: [0.93, 1.07] } },
    }),
    metrics: z.record(z.string(), z.record(z.string(), z.unknown())),
    data: z.array(z.record(z.string(), z.unknown())),
    licence: z.string(),
  })
  .openapi("ModelCard");

export const modelsSchema = z
  .object({
    detector: z.object({ name: z.string(), version: z.string(), source: z.string() }),
    models: z.array(modelCardOutSchema),
  })
  .openapi("Models");

const breakerStateSchema = z.enum(["closed", "open", "half-open"]);

const tierHealthSchema = z.object({
  breaker: breakerStateSchema,
  consecutive_failures: z.number().int(),
  latency_ewma_ms: z.number().nullable(),
});

export const healthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    edge: z.object({ ready: z.boolean() }),
    runner: z.object({
      configured: z.boolean(),
      breaker: breakerStateSchema.openapi({ description: "The most open of the tiers' breakers." }),
      latency_ewma_ms: z.number().nullable().openapi({ description: "`standard`'s latency average (the one that routes)." }),
      tiers: z.object({ standard: tierHealthSchema, accurate: tierHealthSchema }).optional().openapi({
        description: "Per tier: a timeout counts only against its own tier; connection errors, 5xx and garbled answers against both.",
      }),
    }),
  })
  .openapi("Health");

/** The raw-body media types (documentation only: the real type is sniffed from the bytes). */
export const imageBodyDoc = {
  content: {
    "image/jpeg": { schema: { type: "string" as const, format: "binary" } },
    "image/png": { schema: { type: "string" as const, format: "binary" } },
    "image/webp": { schema: { type: "string" as const, format: "binary" } },
    "multipart/form-data": {
      schema: { type: "object" as const, properties: { image: { type: "string" as const, format: "binary" } }, required: ["image"] },
    },
  },
  required: true,
  description: "The image as the raw body, or a multipart form with an `image` field. Its real type is sniffed from the bytes.",
};

export const batchBodyDoc = {
  content: {
    "multipart/form-data": {
      schema: {
        type: "object" as const,
        properties: { image: { type: "array" as const, items: { type: "string" as const, format: "binary" } } },
        required: ["image"],
      },
    },
  },
  required: true,
  description: "Several `image` fields in one multipart form (at most the plan's `max_batch`).",
};
