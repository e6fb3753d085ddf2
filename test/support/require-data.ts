/**
 * Tests that need inputs outside git (the shared datasets) or build output (models/) must not turn
 * green by skipping: with CI=true a missing input fails the test file, saying what is missing and
 * where it was looked for; without CI the suite is skipped and its name says why.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, it } from "vitest";
import { REPO_ROOT } from "../../scripts/lib/repo";
import { DATA_DIR, missingData } from "./datasets";

/** Whether this run is CI (.ci/run exports CI=true): missing inputs are failures there. */
export function isCI(): boolean {
  const ci = process.env.CI?.toLowerCase();
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
}

export interface Needs {
  /** Paths relative to the datasets folder (test/support/datasets.ts), e.g. "aaf/faces". */
  data?: readonly string[];
  /** Model names whose models/<name>.onnx and .json must exist. */
  models?: readonly string[];
}

/** What of `needs` is missing, as one sentence; null when nothing is. */
export function missingInputs(needs: Needs): string | null {
  const reasons: string[] = [];
  const data = missingData(needs.data ?? []);
  if (data.length > 0) reasons.push(`datasets missing under ${DATA_DIR}: ${data.join(", ")} (set DATA_DIR to the datasets folder)`);
  const models = (needs.models ?? [])
    .flatMap((n) => [`${n}.onnx`, `${n}.json`])
    .filter((f) => !existsSync(path.join(REPO_ROOT, "models", f)));
  if (models.length > 0) reasons.push(`model files missing in ${path.join(REPO_ROOT, "models")}: ${models.join(", ")}`);
  return reasons.length > 0 ? reasons.join("; ") : null;
}

/**
 * Null when `needs` are all there. Otherwise: under CI it throws (the test file fails, with the
 * reason); elsewhere it logs the reason and returns it, for a visible skip.
 */
export function unavailable(needs: Needs): string | null {
  const why = missingInputs(needs);
  if (why === null) return null;
  if (isCI()) throw new Error(`required test input missing (CI=true, so this fails instead of skipping): ${why}`);
  console.warn(`skipping: ${why}`);
  return why;
}

/**
 * `describe` for a suite that needs inputs outside git: runs when they are there, fails under
 * CI=true when they are not, and is skipped otherwise: one skipped test stands for the suite, its
 * name says why (the suite's body is not run, as it may read the missing inputs).
 */
export function describeWith(name: string, needs: Needs, fn: () => void): void {
  const why = unavailable(needs);
  if (why === null) describe(name, fn);
  else it.skip(`${name} [skipped: ${why}]`, () => {});
}
