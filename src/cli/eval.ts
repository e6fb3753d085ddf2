/**
 * eval: a model on a labelled set, from model-ready crops or through the full photo path.
 *
 *   npm run eval -- --model models/ThinAgeNet.json --set utkface:test|aaf:test|scut:test|... --input crops|photos
 *                   [--limit N] [--no-flip | --tier fast|standard|accurate] [--detect-only] [--template file.json] [--json out.json]
 *
 * --tier runs the views the card's tier runs (serving.tiers: flip, zooms), as the API does;
 * without it, one pass (--no-flip) or flip-averaged.
 *
 * Prints N, detection rate (photos), MAE or PC, per-band MAE, ms per face; --json writes the same.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { metrics, type Metrics } from "../inference/label-math";
import { AttributeModel, MAX_BATCH, type FacePrediction } from "../inference/model";
import { cropFaces, cropSpec, findFaces } from "../inference/pipeline";
import { alignmentTemplateSchema, tierConfig } from "@faceage/contracts/card";
import { decodeImage } from "../vision/decode";
import type { RgbImage } from "../vision/image";
import { Photo } from "../vision/photo";
import { initDecodersForNode } from "./node-decoders";
import { loadCard, loadDetector, nodeBackend } from "./node-models";
import { repoPath } from "./paths";
import { loadSet, type LabelledItem } from "./sets";

export interface EvalOptions {
  model: string;
  set: string;
  input: "crops" | "photos";
  limit?: number;
  flip?: boolean;
  /** Run the views of this tier from the card (overrides `flip`). */
  tier?: string;
  template?: string;
  /** Photos only: count detections, skip alignment and inference (fast detection-rate runs). */
  detectOnly?: boolean;
  /** Keep each item's prediction in the result (for comparing runs face by face). */
  keepPredictions?: boolean;
}

export interface EvalResult {
  model: string;
  set: string;
  input: "crops" | "photos";
  flip: boolean;
  tier: string | null;
  n_items: number;
  n: number;
  detected: number | null;
  detection_rate: number | null;
  metrics: Metrics | null;
  coverage90: number | null;
  ms_per_face: number;
  ms_per_phase: { decode: number; detect: number; align: number; infer: number };
  undecodable: string[];
  no_face: string[];
  predictions?: { id: string; y: number; value: number }[];
}

const now = () => performance.now();

export async function evaluate(options: EvalOptions): Promise<EvalResult> {
  await initDecodersForNode();
  const { card, model: bytes } = loadCard(options.model);
  if (options.template)
    card.alignment.template = alignmentTemplateSchema.parse(JSON.parse(readFileSync(repoPath(options.template), "utf8")));
  const set = loadSet(options.set, { size: card.input.size });
  if (set.task !== card.task) throw new Error(`${card.name} predicts ${card.task}, ${set.name} is labelled with ${set.task}`);
  const detectOnly = options.input === "photos" && !!options.detectOnly;
  const served = detectOnly ? null : await AttributeModel.create(card, bytes, nodeBackend());
  // A set rated by another panel is scored by that panel's head, on its scale.
  const model = served && set.panel ? served.withPanel(set.panel) : served;
  const detector = options.input === "photos" ? await loadDetector() : null;
  const views = options.tier ? tierConfig(card, options.tier) : { flip: options.flip ?? true };
  const key = options.input === "photos" ? "photo" : "crop";
  const items = set.items.filter((i) => i[key]).slice(0, options.limit ?? Infinity);

  const time = { decode: 0, detect: 0, align: 0, infer: 0 };
  const undecodable: string[] = [];
  const noFace: string[] = [];
  const done: { item: LabelledItem; prediction: FacePrediction }[] = [];
  let pending: { item: LabelledItem; crop: RgbImage }[] = [];
  let detected = 0;
  const flush = async () => {
    if (!model) {
      pending = [];
      return;
    }
    const t = now();
    const predictions = await model.predict(
      pending.map((p) => p.crop),
      views,
    );
    time.infer += now() - t;
    for (const [i, p] of pending.entries()) done.push({ item: p.item, prediction: predictions[i] });
    pending = [];
  };

  for (const item of items) {
    const file = readFileSync(item[key]!);
    let t = now();
    let crop: RgbImage;
    if (!detector) {
      try {
        crop = await decodeImage(file);
      } catch {
        undecodable.push(item.id);
        continue;
      } finally {
        time.decode += now() - t;
      }
    } else {
      // Photos go the served way: a preview for detection, a finer region for a small face.
      let photo: Photo;
      try {
        photo = await Photo.open(file);
      } catch {
        undecodable.push(item.id);
        continue;
      } finally {
        time.decode += now() - t;
      }
      t = now();
      const [face] = await findFaces(photo, detector, 1);
      time.detect += now() - t;
      if (!face) {
        noFace.push(item.id);
        continue;
      }
      detected++;
      if (detectOnly) continue;
      const spec = cropSpec(card);
      t = now();
      const crops = await cropFaces(photo, [face], [spec]);
      time.decode += now() - t;
      t = now();
      [crop] = crops(spec);
      time.align += now() - t;
    }
    pending.push({ item, crop });
    if (pending.length === MAX_BATCH) await flush();
  }
  if (pending.length) await flush();
  await model?.release();
  await detector?.release();

  const n = done.length;
  const y = done.map((d) => d.item.y);
  const pred = done.map((d) => d.prediction.value);
  const sigmas = done.map((d) => d.item.sigma);
  const sigma = sigmas.every((s) => s !== undefined) ? (sigmas as number[]) : null;
  const covered = done.filter((d) => d.item.y >= d.prediction.interval90[0] && d.item.y <= d.prediction.interval90[1]).length;
  const total = time.decode + time.detect + time.align + time.infer;
  const attempted = items.length - undecodable.length;
  return {
    model: card.name,
    set: set.name,
    input: options.input,
    flip: views.flip,
    tier: options.tier ?? null,
    n_items: items.length,
    n,
    detected: detector ? detected : null,
    detection_rate: detector ? detected / Math.max(1, attempted) : null,
    metrics: n ? metrics(pred, y, { task: card.task, sigma }) : null,
    coverage90: n ? covered / n : null,
    ms_per_face: total / Math.max(1, detectOnly ? detected : n),
    ms_per_phase: Object.fromEntries(
      Object.entries(time).map(([k, v]) => [k, v / Math.max(1, detectOnly ? detected : n)]),
    ) as EvalResult["ms_per_phase"],
    undecodable,
    no_face: noFace,
    ...(options.keepPredictions ? { predictions: done.map((d) => ({ id: d.item.id, y: d.item.y, value: d.prediction.value })) } : {}),
  };
}

export function formatResult(r: EvalResult): string {
  const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(d));
  const lines = [
    `${r.model} on ${r.set} (--input ${r.input}${r.tier ? `, tier ${r.tier}` : r.flip ? "" : ", no flip"}${r.metrics || r.n_items === 0 || r.input === "crops" ? "" : ", detection only"})`,
    `  N ${r.n} of ${r.n_items}` +
      (r.detection_rate !== null
        ? `   detection rate ${(100 * r.detection_rate).toFixed(2)}% (${r.detected} found, ${r.no_face.length} without a face)`
        : ""),
  ];
  if (r.undecodable.length) lines.push(`  undecodable ${r.undecodable.length}`);
  if (r.metrics) {
    const m = r.metrics;
    lines.push(
      `  MAE ${f(m.mae)}   RMSE ${f(m.rmse)}   PC ${f(m.pc)}   ε-error ${f(m.eps_error)}` +
        (m.cs5 !== undefined ? `   CS@5 ${f(m.cs5)}` : "") +
        `   90% coverage ${f(r.coverage90)}`,
    );
    if (m.bands)
      lines.push(
        "  MAE by age band: " +
          Object.entries(m.bands)
            .map(([b, v]) => `${b} ${f(v.mae, 2)} (n=${v.n})`)
            .join(", "),
      );
  }
  const p = r.ms_per_phase;
  lines.push(
    `  ${f(r.ms_per_face, 2)} ms per face (decode ${f(p.decode, 2)}, detect ${f(p.detect, 2)}, align ${f(p.align, 2)}, infer ${f(p.infer, 2)})`,
  );
  return lines.join("\n");
}

async function main() {
  const { values: flags } = parseArgs({
    options: {
      model: { type: "string" },
      set: { type: "string" },
      input: { type: "string", default: "crops" },
      limit: { type: "string" },
      "no-flip": { type: "boolean", default: false },
      tier: { type: "string" },
      "detect-only": { type: "boolean", default: false },
      template: { type: "string" },
      json: { type: "string" },
    },
  });
  const { model, set, input } = flags;
  if (!model || !set || (input !== "crops" && input !== "photos")) {
    console.error(
      "usage: eval --model models/<Name>.json --set utkface:test|utkface200:test|aaf|aaf:test|mebeauty:test|scut:test|<folder> --input crops|photos [--limit N] [--no-flip | --tier fast|standard|accurate] [--detect-only] [--template file] [--json out.json]",
    );
    process.exit(2);
  }
  const result = await evaluate({
    model,
    set,
    input,
    limit: flags.limit ? Number(flags.limit) : undefined,
    flip: !flags["no-flip"],
    tier: flags.tier,
    template: flags.template,
    detectOnly: flags["detect-only"],
  });
  console.log(formatResult(result));
  const out = flags.json;
  if (out) {
    mkdirSync(dirname(repoPath(out)), { recursive: true });
    writeFileSync(repoPath(out), JSON.stringify(result, null, 1) + "\n");
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
