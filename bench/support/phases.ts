/**
 * What the per-phase pipeline benches share, runtime-agnostic (no Node APIs, so the workerd bench
 * worker imports it too): the phase names, their summary (statistics from test/support/stats.ts),
 * and the fixed JS workload every phase is divided by so that figures from different runtimes and
 * machines compare.
 */
import { median, percentile } from "../../test/support/stats";

export type Phase = "decode" | "detect" | "align" | "infer" | "total";
export const PHASES: Phase[] = ["decode", "detect", "align", "infer", "total"];

/** Prefixes of the pipeline the workerd bench worker runs ("baseline": the JS yardstick alone). */
export const PREFIXES = ["none", "baseline", "decode", "detect", "align", "infer"] as const;
export type Prefix = (typeof PREFIXES)[number];

export const now = () => performance.now();

/** A fixed CPU-bound workload (64x64 float matrix products). Returns a checksum, not a time. */
export function baselineWork(): number {
  const n = 64;
  const a = new Float32Array(n * n).map((_, i) => (i % 7) / 7);
  const b = new Float32Array(n * n).map((_, i) => (i % 5) / 5);
  const c = new Float32Array(n * n);
  for (let r = 0; r < 20; r++) {
    for (let i = 0; i < n; i++)
      for (let k = 0; k < n; k++) {
        const v = a[i * n + k];
        for (let j = 0; j < n; j++) c[i * n + j] += v * b[k * n + j];
      }
  }
  return c[0]; // keeps the work observable
}

/** The baseline workload timed with this runtime's clock, ms (warm it up first: the JIT). */
export function baselineWorkload(): number {
  const t = now();
  if (baselineWork() === -1) throw new Error("unreachable");
  return now() - t;
}

/** Per-phase summary of samples[phase][image] = that image's repeated timings, ms. */
export function summarise(samples: Record<Phase, number[][]>, baselineMs: number) {
  const perImage = (p: Phase) => samples[p].map(median);
  const median_ms = Object.fromEntries(PHASES.map((p) => [p, median(perImage(p))])) as Record<Phase, number>;
  const p90_ms = Object.fromEntries(PHASES.map((p) => [p, percentile(perImage(p), 0.9)])) as Record<Phase, number>;
  const ratio_to_baseline = Object.fromEntries(PHASES.map((p) => [p, median_ms[p] / baselineMs])) as Record<Phase, number>;
  return { median_ms, p90_ms, baseline_ms: baselineMs, ratio_to_baseline };
}

export const formatPhases = (r: Record<Phase, number>, digits = 1) => PHASES.map((p) => `${p} ${r[p].toFixed(digits)}`).join("  ");
