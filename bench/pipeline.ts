/**
 * Per-phase timing of the photo pipeline (decode, detect, align, infer) per image on
 * mebeauty/photos, as the median over repeated runs. A fixed pure-JS workload is timed in the same
 * process and every phase is also given as a multiple of it, so numbers from different machines
 * and runtimes (Node here; workerd in bench/pipeline-workerd.ts) can be compared.
 *
 *   npx tsx bench/pipeline.ts [--images 40] [--repeat 5] [--models models/ThinAgeNet.json,models/ThinAttNet.json] [--no-flip]
 *
 * Writes bench/results/pipeline-node.json (and .raw.json with every sample, git-ignored).
 *
 * The same phases in workerd: bench/pipeline-workerd.ts (workerd's clock stands still during
 * synchronous work, so that bench times phase prefixes from outside instead).
 */
import { analyzeImage } from "../src/inference/pipeline";
import type { AttributeModel } from "../src/inference/model";
import { decodeImage } from "../src/vision/decode";
import type { FaceDetector } from "../src/vision/detect";
import { median } from "../test/support/stats";
import { baselineWorkload, formatPhases, now, PHASES, summarise, type Phase } from "./support/phases";

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
  for (let i = 0; i < 5; i++) baselineWorkload(); // JIT warm-up, as the workerd bench's warm-up requests give it
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
      for (const [p, v] of [
        ["decode", decode],
        ["detect", timings.detect],
        ["align", timings.align],
        ["infer", timings.infer],
        ["total", total],
      ] as const) {
        samples[p][i].push(v);
      }
    }
  }
  return {
    runtime: options.runtime ?? "unknown",
    images: photos.length,
    repeat,
    flip,
    models: models.map((m) => m.card.name),
    faces,
    ...summarise(samples, median(baseline.slice(1))),
    samples,
  };
}

/** `count` photos of mebeauty/photos spread evenly over the set (not the first few of one folder). */
export async function pickPhotos(count: number): Promise<Uint8Array[]> {
  const { readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { dataDir } = await import("../src/cli/paths");
  const { readCsv } = await import("../src/cli/csv");
  const root = join(dataDir(), "mebeauty");
  const rows = readCsv(join(root, "scores.csv")).filter((r) => r.photo);
  const pick = rows.filter((_, i) => i % Math.max(1, Math.floor(rows.length / count)) === 0).slice(0, count);
  return pick.map((r) => new Uint8Array(readFileSync(join(root, r.photo))));
}

/** The detector and the models of `cards` on onnxruntime-node, as the Node path serves them. */
export async function loadNodePipeline(cards: readonly string[]): Promise<{ detector: FaceDetector; models: AttributeModel[] }> {
  const { initDecodersForNode } = await import("../src/cli/node-decoders");
  const { loadCard, loadDetector, nodeBackend } = await import("../src/cli/node-models");
  const { AttributeModel } = await import("../src/inference/model");
  await initDecodersForNode();
  const detector = await loadDetector();
  const models = await Promise.all(
    cards.map((c) => {
      const { card, model } = loadCard(c);
      return AttributeModel.create(card, model, nodeBackend());
    }),
  );
  return { detector, models };
}

export async function nodeRuntimeName(): Promise<string> {
  const { cpus } = await import("node:os");
  return `node ${process.version} (onnxruntime-node), ${cpus().length}x ${cpus()[0]?.model}`;
}

async function main() {
  const { writeFileSync, mkdirSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { parseArgs } = await import("node:util");
  const { REPO } = await import("../src/cli/paths");
  const { values: flags } = parseArgs({
    options: {
      images: { type: "string", default: "40" },
      repeat: { type: "string", default: "5" },
      models: { type: "string", default: "models/ThinAgeNet.json,models/ThinAttNet.json" },
      "no-flip": { type: "boolean", default: false },
    },
  });
  const count = Number(flags.images);
  const repeat = Number(flags.repeat);
  const cards = flags.models.split(",");
  const photos = await pickPhotos(count);
  const { detector, models } = await loadNodePipeline(cards);
  const report = await benchPipeline(photos, detector, models, { repeat, flip: !flags["no-flip"], runtime: await nodeRuntimeName() });
  const { samples, ...summary } = report;
  const dir = join(REPO, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pipeline-node.json"), JSON.stringify({ date: new Date().toISOString(), ...summary }, null, 1) + "\n");
  writeFileSync(join(dir, "pipeline-node.raw.json"), JSON.stringify(report) + "\n");
  console.log(`${report.images} photos x ${repeat} runs, ${report.faces} faces, models ${report.models.join("+")}, flip ${report.flip}`);
  console.log(`median ms/image: ${formatPhases(report.median_ms)}`);
  console.log(`p90 ms/image:    ${formatPhases(report.p90_ms)}`);
  console.log(`baseline ${report.baseline_ms.toFixed(2)} ms; x baseline: ${formatPhases(report.ratio_to_baseline, 2)}`);
}

if (typeof process !== "undefined" && import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
