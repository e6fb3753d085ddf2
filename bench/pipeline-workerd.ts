/**
 * Per-phase timing of the edge pipeline (decode, detect, align, infer) per image *in workerd*,
 * beside the same phases, models and photos on the Node path in this process (the baseline).
 *
 *   npm run bench:pipeline:workerd -- [--images 20] [--repeat 5] [--inner 3] [--no-flip]
 *
 * workerd's clock stands still during synchronous work, so the worker cannot time itself. The
 * bench worker (bench/workerd/worker.ts, local `wrangler dev`) runs a *prefix* of the pipeline
 * `inner` times per request; this process times each request, and a phase is the difference
 * between consecutive prefixes' median request times (the HTTP round trip, in every prefix,
 * cancels), divided by `inner`. The models are the edge tier's (TinyAgeNet + TinyAttNet).
 * Writes bench/results/pipeline-workerd.{md,json}.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../scripts/lib/repo";
import { median } from "../test/support/stats";
import { benchPipeline, loadNodePipeline, nodeRuntimeName, pickPhotos } from "./pipeline";
import { formatPhases, now, PHASES, PREFIXES, summarise, type Phase, type Prefix } from "./support/phases";
import { startBenchWorker } from "./support/workerd";

const { values: args } = parseArgs({
  options: {
    images: { type: "string", default: "20" },
    repeat: { type: "string", default: "5" },
    inner: { type: "string", default: "3" },
    "no-flip": { type: "boolean", default: false },
  },
});
const count = Number(args.images);
const repeat = Number(args.repeat);
const inner = Number(args.inner);
const flip = !args["no-flip"];
const EDGE_CARDS = ["models/TinyAgeNet.json", "models/TinyAttNet.json"];

const photos = await pickPhotos(count);
const { worker, compatibilityDate } = await startBenchWorker();

async function timePrefix(photo: Uint8Array, until: Prefix): Promise<{ ms: number; faces: number }> {
  const t = now();
  const res = await worker.fetch(`/?until=${until}&repeat=${inner}&flip=${flip ? 1 : 0}`, { method: "POST", body: photo });
  const body = (await res.json()) as { faces: number };
  if (res.status !== 200) throw new Error(`${until}: HTTP ${res.status}`);
  return { ms: now() - t, faces: body.faces };
}

let workerd;
try {
  // Warm-up: loads the detector, both models and the WASM runtime; counts faces.
  let faces = 0;
  for (const photo of photos) faces += (await timePrefix(photo, "infer")).faces;
  const requests = Object.fromEntries(PREFIXES.map((p) => [p, photos.map(() => [] as number[])])) as Record<Prefix, number[][]>;
  for (let r = 0; r < repeat; r++) {
    for (const [i, photo] of photos.entries()) for (const p of PREFIXES) requests[p][i].push((await timePrefix(photo, p)).ms);
  }
  // Per image: median request time of each prefix; a phase is the step between prefixes.
  const med = (p: Prefix, i: number) => median(requests[p][i]);
  const step = (a: Prefix, b: Prefix) => photos.map((_, i) => [Math.max(0, med(b, i) - med(a, i)) / inner]);
  const samples: Record<Phase, number[][]> = {
    decode: step("none", "decode"),
    detect: step("decode", "detect"),
    align: step("detect", "align"),
    infer: step("align", "infer"),
    total: step("none", "infer"),
  };
  const baselineMs = median(step("none", "baseline").map(([v]) => v));
  workerd = {
    runtime: `workerd (local wrangler dev, onnxruntime-web WASM), compatibility date ${compatibilityDate}`,
    faces,
    ...summarise(samples, baselineMs),
  };
} finally {
  await worker.stop();
}

// The baseline: the same photos and models on the Node path, in this process.
const { detector, models } = await loadNodePipeline(EDGE_CARDS);
const { samples: _, ...node } = await benchPipeline(photos, detector, models, { repeat, flip, runtime: await nodeRuntimeName() });

const rows = PHASES.map((p) => {
  const w = workerd.median_ms[p],
    n = node.median_ms[p];
  return `| ${p} | ${w.toFixed(1)} | ${workerd.p90_ms[p].toFixed(1)} | ${n.toFixed(1)} | ${(w / n).toFixed(1)}× | ${workerd.ratio_to_baseline[p].toFixed(2)} | ${node.ratio_to_baseline[p].toFixed(2)} |`;
});
const md = `# Pipeline phases in workerd vs Node

${new Date().toISOString()} · \`npm run bench:pipeline:workerd -- --images ${count} --repeat ${repeat} --inner ${inner}${flip ? "" : " --no-flip"}\`

${photos.length} photos of mebeauty/photos (an even spread), ${workerd.faces} faces; edge models ${node.models.join(" + ")}, flip-averaged: ${flip}.
Per image: median over ${repeat} runs; the table gives the median (and p90) over images, ms.

- workerd: ${workerd.runtime}. Each phase = difference of consecutive pipeline prefixes' median request time, each request running its prefix ${inner}× (workerd's clock stands still during synchronous work, so it is timed from outside).
- Node: ${node.runtime}, timed in-process (the baseline; same photos, same models, same process).
- × JS yardstick: the phase divided by a fixed pure-JS workload timed in the same runtime (workerd ${workerd.baseline_ms.toFixed(2)} ms, Node ${node.baseline_ms.toFixed(2)} ms), for comparing machines.

| phase | workerd ms | workerd p90 | Node ms | workerd / Node | workerd × JS yardstick | Node × JS yardstick |
|---|---|---|---|---|---|---|
${rows.join("\n")}
`;
const dir = path.join(REPO_ROOT, "bench/results");
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, "pipeline-workerd.md"), md);
writeFileSync(
  path.join(dir, "pipeline-workerd.json"),
  JSON.stringify({ date: new Date().toISOString(), images: photos.length, repeat, inner, flip, workerd, node }, null, 1) + "\n",
);
console.log(md);
console.log(`workerd ms: ${formatPhases(workerd.median_ms)}\nnode ms:    ${formatPhases(node.median_ms)}`);
