/**
 * Per-phase timing of the photo pipeline (decode, detect, align, infer) per image on
 * mebeauty/photos, as the median over repeated runs. A fixed pure-JS workload is timed in the same
 * process and every phase is also given as a multiple of it, so numbers from different machines
 * and runtimes (Node here, workerd via the hook below) can be compared.
 *
 *   npx tsx bench/pipeline.ts [--images 40] [--repeat 5] [--models models/ThinAgeNet.json,models/ThinAttNet.json] [--no-flip]
 *
 * Writes bench/results/pipeline-node.json (and .raw.json with every sample, git-ignored).
 *
 * Hook for workerd: `benchPipeline` below is runtime-agnostic (no Node APIs); a worker test can
 * call it with photos it was given, its FaceDetector and AttributeModels on onnxruntime-web.
 */
import { analyzeImage } from "../src/inference/pipeline";
import type { AttributeModel } from "../src/inference/model";
import { decodeImage } from "../src/vision/decode";
import type { FaceDetector } from "../src/vision/detect";

export type Phase = "decode" | "detect" | "align" | "infer" | "total";
const PHASES: Phase[] = ["decode", "detect", "align", "infer", "total"];

export interface BenchReport {
  runtime: string;
  images: number;
  repeat: number;
  flip: boolean;
  models: string[];
  faces: number;
  /** Median over images of each image's median-over-repeats, ms. */
  median_ms: Record<Phase, number>;
  p90_ms: Record<Phase, number>;
  /** The fixed JS workload's median, ms, and each phase's median as a multiple of it. */
  baseline_ms: number;
  ratio_to_baseline: Record<Phase, number>;
  samples: Record<Phase, number[][]>;
}

const now = () => globalThis.performance?.now() ?? Date.now();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** A fixed CPU-bound workload (64x64 float matrix products): the yardstick the phases are divided by. */
export function baselineWorkload(): number {
  const n = 64;
  const a = new Float32Array(n * n).map((_, i) => (i % 7) / 7);
  const b = new Float32Array(n * n).map((_, i) => (i % 5) / 5);
  const c = new Float32Array(n * n);
  const t = now();
  for (let r = 0; r < 20; r++) {
    for (let i = 0; i < n; i++)
      for (let k = 0; k < n; k++) {
        const v = a[i * n + k];
        for (let j = 0; j < n; j++) c[i * n + j] += v * b[k * n + j];
      }
  }
  const ms = now() - t;
  if (c[0] === -1) throw new Error("unreachable"); // keeps the work observable
  return ms;
}

/** Times each phase for each photo, `repeat` times, after one warm-up pass. Runtime-agnostic. */
export async function benchPipeline(
  photos: readonly Uint8Array[],
  detector: FaceDetector,
  models: readonly AttributeModel[],
  options: { repeat?: number; flip?: boolean; runtime?: string } = {},
): Promise<BenchReport> {
  const repeat = options.repeat ?? 5;
  const flip = options.flip ?? true;
  const samples = Object.fromEntries(PHASES.map((p) => [p, photos.map(() => [] as number[])])) as Record<Phase, number[][]>;
  const baseline: number[] = [];
  let faces = 0;
  for (let r = -1; r < repeat; r++) {
    baseline.push(baselineWorkload());
    for (const [i, bytes] of photos.entries()) {
      const t0 = now();
      const image = await decodeImage(bytes);
      const decode = now() - t0;
      const { faces: found, timings } = await analyzeImage(image, detector, models, { flip });
      if (r < 0) {
        faces += found.length;
        continue; // warm-up
      }
      const total = decode + timings.detect + timings.align + timings.infer;
      for (const [p, v] of [["decode", decode], ["detect", timings.detect], ["align", timings.align], ["infer", timings.infer], ["total", total]] as const) {
        samples[p][i].push(v);
      }
    }
  }
  const perImage = (p: Phase) => samples[p].map(median);
  const median_ms = Object.fromEntries(PHASES.map((p) => [p, median(perImage(p))])) as Record<Phase, number>;
  const p90_ms = Object.fromEntries(PHASES.map((p) => [p, quantile(perImage(p), 0.9)])) as Record<Phase, number>;
  const baseline_ms = median(baseline.slice(1));
  return {
    runtime: options.runtime ?? "unknown",
    images: photos.length,
    repeat,
    flip,
    models: models.map((m) => m.card.name),
    faces,
    median_ms,
    p90_ms,
    baseline_ms,
    ratio_to_baseline: Object.fromEntries(PHASES.map((p) => [p, median_ms[p] / baseline_ms])) as Record<Phase, number>,
    samples,
  };
}

async function main() {
  const { readFileSync, writeFileSync, mkdirSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { cpus } = await import("node:os");
  const env = await import("../src/cli/env");
  const { AttributeModel } = await import("../src/inference/model");
  const { flags } = env.parseArgs(process.argv.slice(2));
  const count = typeof flags.images === "string" ? Number(flags.images) : 40;
  const repeat = typeof flags.repeat === "string" ? Number(flags.repeat) : 5;
  const cards = typeof flags.models === "string" ? flags.models.split(",") : ["models/ThinAgeNet.json", "models/ThinAttNet.json"];
  await env.initWebPForNode();
  const root = join(env.dataDir(), "mebeauty");
  const rows = env.readCsv(join(root, "scores.csv")).filter((r) => r.photo);
  // An even spread over the photos, not the first few of one folder.
  const pick = rows.filter((_, i) => i % Math.max(1, Math.floor(rows.length / count)) === 0).slice(0, count);
  const photos = pick.map((r) => new Uint8Array(readFileSync(join(root, r.photo))));
  const detector = await env.loadDetector();
  const models = await Promise.all(cards.map((c) => {
    const { card, model } = env.loadCard(c);
    return AttributeModel.create(card, model, env.nodeBackend());
  }));
  const report = await benchPipeline(photos, detector, models, { repeat, flip: !flags["no-flip"], runtime: `node ${process.version} (onnxruntime-node), ${cpus().length}x ${cpus()[0]?.model}` });
  const { samples, ...summary } = report;
  const dir = join(env.REPO, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pipeline-node.json"), JSON.stringify({ date: new Date().toISOString(), ...summary }, null, 1) + "\n");
  writeFileSync(join(dir, "pipeline-node.raw.json"), JSON.stringify(report) + "\n");
  const fmt = (r: Record<Phase, number>, d = 1) => PHASES.map((p) => `${p} ${r[p].toFixed(d)}`).join("  ");
  console.log(`${report.images} photos x ${repeat} runs, ${report.faces} faces, models ${report.models.join("+")}, flip ${report.flip}`);
  console.log(`median ms/image: ${fmt(report.median_ms)}`);
  console.log(`p90 ms/image:    ${fmt(report.p90_ms)}`);
  console.log(`baseline ${report.baseline_ms.toFixed(2)} ms; x baseline: ${fmt(report.ratio_to_baseline, 2)}`);
}

if (typeof process !== "undefined" && import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
