import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type BandError,
  expectation,
  labelDistribution,
  labelVector,
  metrics,
  quantile,
  std,
  temperatureProbs,
} from "../../../src/inference/label-math";

// Written by the Python side (training/dldl): both implementations must agree on these numbers.
const vectors = JSON.parse(readFileSync(new URL("../../vectors/labels.json", import.meta.url), "utf8"));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe("label math against the Python vectors", () => {
  it("has cases for both label spaces", () => {
    expect(vectors.cases.length).toBeGreaterThanOrEqual(4);
    expect(vectors.metrics.length).toBeGreaterThanOrEqual(2);
  });

  for (const [i, c] of vectors.cases.entries()) {
    describe(`case ${i}: labels ${c.labels.min}..${c.labels.max} step ${c.labels.step}, y=${c.y} σ=${c.sigma}`, () => {
      const labels = labelVector(c.labels);
      it("label distribution (Eq. 1)", () => {
        // The Python side held y and σ as float32 (3.4 -> 3.4000000953...), hence 1e-7, not 1e-12.
        expect(maxAbsDiff(labelDistribution(c.y, c.sigma, labels), c.distribution)).toBeLessThan(1e-7);
      });
      it("expectation, std and quantiles of the predicted probs", () => {
        expect(expectation(c.probs, labels)).toBeCloseTo(c.expectation, 9);
        expect(std(c.probs, labels)).toBeCloseTo(c.std, 9);
        expect(quantile(c.probs, labels, 0.05)).toBeCloseTo(c.q05, 9);
        expect(quantile(c.probs, labels, 0.5)).toBeCloseTo(c.q50, 9);
        expect(quantile(c.probs, labels, 0.95)).toBeCloseTo(c.q95, 9);
      });
      it("temperature scaling and the calibrated 90% interval", () => {
        const pt = temperatureProbs(c.probs, c.temperature);
        expect(maxAbsDiff(pt, c.probs_t)).toBeLessThan(1e-12);
        expect(quantile(pt, labels, 0.05)).toBeCloseTo(c.q05_t, 9);
        expect(quantile(pt, labels, 0.95)).toBeCloseTo(c.q95_t, 9);
      });
    });
  }

  for (const m of vectors.metrics) {
    it(`metrics (${m.task}, n=${m.y.length})`, () => {
      const got = metrics(m.pred, m.y, { task: m.task, sigma: m.sigma });
      const want = m.expected;
      expect(got.n).toBe(want.n);
      for (const key of ["mae", "rmse", "pc", "eps_error", "cs5"] as const) {
        if (key in want) expect(got[key], key).toBeCloseTo(want[key], 10);
        else expect(got[key]).toBeUndefined();
      }
      if (want.bands) {
        for (const [band, b] of Object.entries(want.bands as Record<string, BandError>)) {
          expect(got.bands![band].n).toBe(b.n);
          for (const key of ["mae", "mean_error"] as const) {
            if (b[key] === null) expect(got.bands![band][key], key).toBeNull();
            else expect(got.bands![band][key]!, key).toBeCloseTo(b[key], 10);
          }
        }
      }
    });
  }
});

describe("quantile definition", () => {
  const labels = labelVector({ min: 0, max: 4, step: 1 });
  it("interpolates inside the first bin whose CDF reaches q", () => {
    // CDF 0.1, 0.5, 0.9, 1.0, 1.0: q=0.3 is half-way into bin 1 -> l_0 + 1*(0.3-0.1)/0.4 = 0.5
    expect(quantile([0.1, 0.4, 0.4, 0.1, 0], labels, 0.3)).toBeCloseTo(0.5, 12);
    expect(quantile([0.1, 0.4, 0.4, 0.1, 0], labels, 0.05)).toBe(0);
    expect(quantile([0.1, 0.4, 0.4, 0.1, 0], labels, 0.9)).toBeCloseTo(2, 12);
  });
});
