/**
 * No attractiveness score for a face that may be a minor. Whenever beauty is asked for, the API
 * also estimates age and withholds beauty when the face's calibrated P(age < 18) is above
 * MINOR_RISK (default 0.05: the 90% age interval reaches below 18). The trade-off per threshold
 * (minors still scored vs adults withheld) is measured on UTKFace test and written into each age
 * card (`metrics["utkface:test"].minor_guard`); README quotes it. Withholding a young adult's score
 * costs little; scoring a child must not happen.
 */
import type { FacePrediction } from "../inference/model";
import type { Attribute } from "../routing/catalog";

export const ADULT_AGE = 18;

export type WithheldReason = "possible-minor";

/** The attributes to estimate for a request: beauty always brings age along for the check. */
export function attributesToEstimate(requested: readonly Attribute[]): Attribute[] {
  return requested.includes("beauty") && !requested.includes("age") ? ["age", ...requested] : [...requested];
}

/** Why this face's beauty must be withheld, or null when it may be given. No estimate: withhold (fail closed). */
export function beautyWithheld(age: FacePrediction | undefined, maxRisk: number): WithheldReason | null {
  const risk = age?.probabilityBelow;
  return risk === undefined || !(risk <= maxRisk) ? "possible-minor" : null;
}
