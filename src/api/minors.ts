/**
 * No attractiveness score for a face that may be a minor. Whenever beauty is asked for, the API
 * also estimates age and withholds beauty when the face's calibrated P(age < 18) is above a risk
 * threshold: the answering age model's own (card `minor_guard.risk`: the largest that scores at
 * most 3% of the validation minors under every tier it serves, training/dldl/export.py), or the
 * operator's MINOR_RISK when set. What it costs (minors still scored, adults withheld) is measured
 * per tier on every test set (card `tiers.<tier>.metrics[set].minor_guard`). Withholding a young
 * adult's score costs little; scoring a child must not happen.
 */
import type { FacePrediction } from "../inference/model";
import type { ModelCard } from "@faceage/contracts/card";
import type { Attribute } from "./schemas";

export const ADULT_AGE = 18;

export type WithheldReason = "possible-minor";

/** The attributes to estimate for a request: beauty always brings age along for the check. */
export function attributesToEstimate(requested: readonly Attribute[]): Attribute[] {
  return requested.includes("beauty") && !requested.includes("age") ? ["age", ...requested] : [...requested];
}

/** For a card without a chosen threshold: P(age < 18) above 0.05, the 90% interval reaches below 18. */
export const DEFAULT_MINOR_RISK = 0.05;

/** The threshold that applies to an answer of `ageCard`: the operator's, else the card's, else the default. */
export function minorRiskFor(ageCard: Pick<ModelCard, "minor_guard"> | undefined, operatorRisk: number | undefined): number {
  return operatorRisk ?? ageCard?.minor_guard?.risk ?? DEFAULT_MINOR_RISK;
}

/** Why this face's beauty must be withheld, or null when it may be given. No estimate: withhold (fail closed). */
export function beautyWithheld(age: FacePrediction | undefined, maxRisk: number): WithheldReason | null {
  const risk = age?.probabilityBelow;
  return risk === undefined || !(risk <= maxRisk) ? "possible-minor" : null;
}
