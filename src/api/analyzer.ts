/**
 * One image in, one answer out: sniff -> hash -> cache -> decode -> detect -> align -> route ->
 * answer. The photo steps are the shared pipeline's (src/inference/pipeline.ts); this module adds
 * the HTTP concerns: the answer cache, the tier's routing, the minors policy and the answer's
 * shape. Everything before decoding is cheap, so a cache hit, a non-image (415) or an oversize
 * image (422) costs almost nothing. The image bytes are only ever hashed and decoded, never
 * stored or logged.
 */
import { analysisCacheKey, type AnalysisCache } from "../cache/analysis-cache";
import { sha256Hex } from "../crypto/sha256";
import type { EdgeModels } from "../inference/edge-models";
import { cropFaces, cropSpec, findFaces } from "../inference/pipeline";
import type { ModelCard } from "@faceage/contracts/card";
import type { ModelCatalog } from "../models/catalog";
import { RunnerUnavailable } from "../routing/runner-client";
import type { TieredRouter } from "../routing/router";
import { ImageError, Photo, sniffImageType } from "../vision";
import { ADULT_AGE, attributesToEstimate, minorRiskFor } from "./minors";
import { ApiProblem } from "./problem";
import { renderFace } from "./render";
import type { AnalyzeQuery, Analysis } from "./schemas";

export interface AnalyzerDeps {
  catalog: ModelCatalog;
  edge: EdgeModels;
  router: TieredRouter;
  cache: AnalysisCache | null;
  maxPixels: number;
  /** The operator's P(age < 18) threshold; undefined: each age card's own (src/api/minors.ts). */
  minorRisk: number | undefined;
  /** Keeps background work (cache writes) alive after the response (ExecutionContext.waitUntil). */
  waitUntil: (p: Promise<unknown>) => void;
  /** Told why the runner was not used when the answer is an edge fallback (for the request log). */
  onFallback?: (reason: string) => void;
}

export type StoredAnalysis = Omit<Analysis, "cached" | "timing_ms">;

export async function answerAnalyzeRequest(bytes: Uint8Array, query: AnalyzeQuery, deps: AnalyzerDeps): Promise<Analysis> {
  const started = Date.now();
  if (!sniffImageType(bytes)) throw new ApiProblem("unsupported-media-type", "The body is not a JPEG, PNG or WebP image.");

  const imageSha256 = await sha256Hex(bytes);
  const attributes = attributesToEstimate(query.attributes);
  const cards = deps.router.cardsFor(query.tier, attributes);
  const cacheKey = await analysisCacheKey({
    imageSha256,
    models: {
      detector: `${deps.catalog.detector.name}@${deps.catalog.detector.version}`,
      ...Object.fromEntries(cards.map((c) => [c.task, `${c.name}@${c.version}`])),
    },
    options: {
      attributes: query.attributes,
      tier: query.tier,
      max_faces: query.max_faces,
      distribution: query.distribution,
      explain: query.explain,
      minor_risk: deps.minorRisk ?? "card", // a card's own threshold is keyed by its version above
    },
  });
  const hit = await deps.cache?.get<StoredAnalysis>(cacheKey);
  if (hit) return { ...hit, cached: true, timing_ms: Date.now() - started };

  const photo = await open(bytes, deps.maxPixels);
  const detector = await deps.edge.detector();
  const faces = await findFaces(photo, detector, query.max_faces);
  // Views for every crop the router may ask for (this tier's cards and the edge fallback's) are
  // read before routing, which asks for crops synchronously.
  const servable = [...cards, ...attributes.map((a) => deps.catalog.edge[a].card)];
  const crops = await decodeStep(() => cropFaces(photo, faces, servable.map(cropSpec)), deps.maxPixels);
  const cropsFor = (card: ModelCard) => crops(cropSpec(card));

  let estimation;
  try {
    estimation = await deps.router.estimate({
      tier: query.tier,
      attributes,
      cropsFor,
      distribution: query.distribution,
      scoremap: query.explain,
      ...(attributes.includes("beauty") ? { probabilityBelow: { age: ADULT_AGE } } : {}),
    });
  } catch (err) {
    if (err instanceof RunnerUnavailable) {
      const retryAfter = Math.max(1, Math.ceil((err.retryAfterMs ?? 5000) / 1000));
      throw new ApiProblem(
        "runner-unavailable",
        "The GPU runner cannot answer now; the accurate tier does not degrade. Retry later or use tier=standard.",
        {
          headers: { "Retry-After": String(retryAfter) },
        },
      );
    }
    throw err;
  }

  if (estimation.fallbackReason) deps.onFallback?.(estimation.fallbackReason);
  const ageCard = [deps.catalog.edge.age.card, deps.catalog.runner.age].find((c) => c.name === estimation.models.age?.name);
  const answer: StoredAnalysis = {
    image: { sha256: imageSha256, width: photo.width, height: photo.height },
    faces: faces.map((face, i) => renderFace(face, i, estimation.predictions, ageCard, query, minorRiskFor(ageCard, deps.minorRisk))),
    models: {
      detector: { name: deps.catalog.detector.name, version: deps.catalog.detector.version },
      ...estimation.models,
    },
    route: estimation.route,
  };
  // A fallback answer is not what this tier promises when the runner is up: never cache it.
  if (deps.cache && estimation.route !== "edge-fallback") deps.waitUntil(deps.cache.put(cacheKey, answer));
  return { ...answer, cached: false, timing_ms: Date.now() - started };
}

/** Header walk, budget check and the preview (src/vision/photo.ts); the budget is DEFAULT_BUDGET's but for MAX_PIXELS. */
function open(bytes: Uint8Array, maxPixels: number): Promise<Photo> {
  return decodeStep(() => Photo.open(bytes, { budget: { maxPixels } }), maxPixels);
}

/** A decoding step whose ImageError becomes the API's problem (our words only, never the decoder's). */
async function decodeStep<T>(step: () => Promise<T>, maxPixels: number): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    if (err.kind === "unsupported") throw new ApiProblem("unsupported-media-type", "The body is not a JPEG, PNG or WebP image.");
    if (err.kind === "too_large")
      throw new ApiProblem(
        "pixel-budget",
        `The image has more than ${maxPixels} pixels, or needs more memory or work to decode than one image may use.`,
      );
    throw new ApiProblem("undecodable-image", "The image is corrupt, truncated or malformed.");
  }
}
