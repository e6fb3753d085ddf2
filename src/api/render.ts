/**
 * One face of the answer, from the detector's box and the models' predictions: what the query asked
 * for, with beauty withheld where the minors policy says so (src/api/minors.ts). Pure and
 * synchronous, so the bench worker times it as the API's "render" stage.
 */
import type { ModelCard } from "@faceage/contracts/card";
import { labelVector } from "../inference/label-math";
import type { FacePrediction } from "../inference/model";
import type { Face } from "../vision";
import { pngDataUrl, scoremapPng } from "./explain";
import { beautyWithheld } from "./minors";
import type { AnalyzeQuery, Analysis, Attribute } from "./schemas";

export type RenderedFace = Analysis["faces"][number];

export function renderFace(
  face: Face,
  i: number,
  predictions: Partial<Record<Attribute, FacePrediction[]>>,
  ageCard: ModelCard | undefined,
  query: AnalyzeQuery,
  minorRisk: number,
): RenderedFace {
  const out: RenderedFace = {
    box: face.box,
    score: face.score,
    landmarks: face.keypoints.map(([x, y]) => [x, y] as [number, number]),
  };
  const age = predictions.age?.[i];
  if (age && query.attributes.includes("age")) {
    out.age = { value: age.value, std: age.std, interval90: age.interval90 };
    if (query.distribution && age.distribution && ageCard) {
      out.age.distribution = { labels: Array.from(labelVector(ageCard.labels)), probs: age.distribution };
    }
  }
  const withheld = predictions.beauty ? beautyWithheld(age, minorRisk) : null;
  const beauty = withheld ? undefined : predictions.beauty?.[i];
  if (beauty) out.beauty = { value: beauty.value, std: beauty.std, interval90: beauty.interval90, scale: [1, 10] };
  if (withheld) out.withheld = { beauty: withheld };
  if (query.explain) {
    out.scoremap = {};
    if (out.age && age?.scoremap) out.scoremap.age = pngDataUrl(scoremapPng(age.scoremap));
    if (beauty?.scoremap) out.scoremap.beauty = pngDataUrl(scoremapPng(beauty.scoremap));
  }
  return out;
}
