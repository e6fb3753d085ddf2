/**
 * derive-template: the alignment template of a training framing, measured rather than guessed.
 * Runs BlazeFace over that framing's training crops (the served detect step,
 * src/inference/pipeline.ts), normalises each face's 6 keypoints by the crop size and averages them. Weights are each keypoint's inverse residual variance after a
 * similarity fit of every face onto the mean (max 1): keypoints that a similarity transform cannot
 * explain (ears and nose tip move with head pose) pull less on the fit at serving time.
 *
 *   npm run derive-template -- [--framing utkface|mebeauty|all] [--limit N] [--out training/templates]
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { applySimilarity, fitSimilarity } from "../vision/align";
import { findFaces } from "../inference/pipeline";
import type { Point } from "../vision/detect";
import { Photo } from "../vision/photo";
import { dataDir, repoPath } from "./paths";
import { initDecodersForNode } from "./node-decoders";
import { loadDetector } from "./node-models";
import { readCsv } from "./csv";

const FRAMINGS: Record<string, () => string[]> = {
  utkface: () =>
    readCsv(join(dataDir(), "utkface/labels.csv"))
      .filter((r) => r.has200 === "1" && r.split === "train")
      .map((r) => join(dataDir(), "utkface/200", r.file)),
  mebeauty: () =>
    readCsv(join(dataDir(), "mebeauty/scores.csv"))
      .filter((r) => r.crop && r.split === "train")
      .map((r) => join(dataDir(), "mebeauty", r.crop)),
};

async function derive(framing: string, limit: number) {
  const files = FRAMINGS[framing]().slice(0, limit);
  await initDecodersForNode();
  const detector = await loadDetector();
  const samples: number[][] = [];
  for (const file of files) {
    const photo = await Photo.open(readFileSync(file));
    const [face] = await findFaces(photo, detector, 1);
    if (!face) continue;
    samples.push(face.keypoints.flatMap(([x, y]) => [x / photo.width, y / photo.height]));
  }
  const n = samples.length;
  const mean = Array.from({ length: 12 }, (_, j) => samples.reduce((s, v) => s + v[j], 0) / n);
  const meanPoints = Array.from({ length: 6 }, (_, k) => [mean[2 * k], mean[2 * k + 1]] as Point);
  const variance = new Array<number>(6).fill(0);
  for (const v of samples) {
    const points = Array.from({ length: 6 }, (_, k) => [v[2 * k], v[2 * k + 1]] as Point);
    const t = fitSimilarity(points, meanPoints);
    points.forEach((p, k) => {
      const [x, y] = applySimilarity(t, p);
      variance[k] += ((x - meanPoints[k][0]) ** 2 + (y - meanPoints[k][1]) ** 2) / n;
    });
  }
  const inv = variance.map((v) => 1 / v);
  const top = Math.max(...inv);
  const round = (x: number) => Math.round(x * 1e4) / 1e4;
  return {
    keypoints: Array.from({ length: 6 }, (_, k) => [round(mean[2 * k]), round(mean[2 * k + 1])]),
    weights: inv.map((w) => Math.round((w / top) * 1e3) / 1e3),
    source: `BlazeFace front/back keypoints averaged over ${framing} training crops (${framing === "utkface" ? "utkface/200" : "mebeauty/crops"}), detected ${n}/${files.length}`,
    n,
  };
}

async function main() {
  const { values: flags } = parseArgs({
    options: {
      framing: { type: "string", default: "all" },
      limit: { type: "string" },
      out: { type: "string", default: "training/templates" },
    },
  });
  const framing = flags.framing;
  const limit = flags.limit ? Number(flags.limit) : Infinity;
  const out = repoPath(flags.out);
  mkdirSync(out, { recursive: true });
  for (const name of framing === "all" ? Object.keys(FRAMINGS) : [framing]) {
    if (!FRAMINGS[name]) throw new Error(`unknown framing ${name}; one of ${Object.keys(FRAMINGS).join(", ")}`);
    const template = await derive(name, limit);
    writeFileSync(join(out, `${name}.json`), JSON.stringify(template, null, 1) + "\n");
    console.log(`${name}: n=${template.n}`, JSON.stringify(template.keypoints), "weights", JSON.stringify(template.weights));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
