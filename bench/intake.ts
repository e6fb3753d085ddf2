/**
 * The fast tier on photos as users send them: per-phase ms of the edge pipeline (decode, detect,
 * align, infer; TinyAgeNet + TinyAttNet, no flip, as tier=fast runs) for 400-512 px MEBeauty
 * photos and for the same photos upscaled to 12 MP (4000x3000 baseline 4:2:0 JPEG, as phones
 * write them), in workerd and in Node in the same run; then the whole request through the API
 * (the real worker, local `wrangler dev`, tier=fast, new bytes each time so the cache misses):
 * client latency and the answer's timing_ms.
 *
 *   npx tsx bench/intake.ts [--images 10] [--repeat 3] [--inner 2] [--label after] [--before bench/results/intake-before.json]
 *
 * The "before" figures were taken with this bench on the code before issue 15 (same bench worker
 * protocol, analyzePhoto in Node; its Node helpers were then in src/cli/env.ts). Writes
 * bench/results/intake-<label>.{json,md}; with --before, the .md has after/before ratios. Phases
 * in workerd are timed from outside as in bench/pipeline-workerd.ts (its clock stands still during
 * synchronous work). The API stage breakdown (limiter, hash, cache, render) comes from bench
 * worker prefixes where it supports them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { REPO_ROOT } from "../scripts/lib/repo";
import { withComment } from "../test/support/photos";
import { median } from "../test/support/stats";
import { nodeRuntimeName, pickPhotos } from "./pipeline";
import { now } from "./support/phases";
import { startBenchWorker } from "./support/workerd";

const { values: args } = parseArgs({
  options: {
    images: { type: "string", default: "10" },
    repeat: { type: "string", default: "3" },
    inner: { type: "string", default: "2" },
    label: { type: "string", default: "after" },
    before: { type: "string" },
    /** Re-render intake-<label>.md from its .json (e.g. once the "before" run exists); runs nothing. */
    "render-only": { type: "boolean", default: false },
  },
});
const count = Number(args.images);
const repeat = Number(args.repeat);
const inner = Number(args.inner);
const EDGE_CARDS = ["models/TinyAgeNet.json", "models/TinyAttNet.json"];
const PHASES = ["decode", "detect", "align", "infer", "total"] as const;
type Phases = Record<(typeof PHASES)[number], number>;
const STAGES = ["limiter", "hash", "cache", "render"] as const;
/** A request's steps in order, for the stage table. */
const REQUEST_STAGES = ["limiter", "hash", "cache", "decode", "detect", "align", "infer", "render"] as const;
/** Where each API stage's time is measured from: the steps before decoding alone, render after infer. */
const STAGE_BASE: Record<(typeof STAGES)[number], string> = { limiter: "none", hash: "none", cache: "none", render: "infer" };

const SETS = ["400px", "12MP"] as const;
type Report = Awaited<ReturnType<typeof measure>>;

/** The edge models measured, from their cards: name, version, and int8 or float weights. */
function edgeModels(): string {
  return ["TinyAgeNet", "TinyAttNet"]
    .map((name) => {
      const card = JSON.parse(readFileSync(path.join(REPO_ROOT, "models", `${name}.json`), "utf8"));
      return `${name} ${card.version.slice(0, 12)} (${card.quantization ? "int8" : "float"})`;
    })
    .join(", ");
}

async function measure() {
  const small = await pickPhotos(count);
  const large = await Promise.all(
    small.map(async (p) => new Uint8Array(await sharp(p).resize(4000, 3000, { fit: "fill" }).jpeg({ quality: 92 }).toBuffer())),
  );
  const sets: Record<(typeof SETS)[number], Uint8Array[]> = { "400px": small, "12MP": large };

  /** A copy of a JPEG with a unique COM segment after SOI: same pixels, new hash (a cache miss). */
  let serial = 0;
  const unique = (jpeg: Uint8Array) => withComment(jpeg, `bench-${process.pid}-${++serial}`);

  // ---- workerd, per phase ----
  const { worker: bench, compatibilityDate } = await startBenchWorker();
  const workerd: Record<string, Phases & { stages?: Record<string, number> }> = {};
  const failures: Record<string, string> = {};
  try {
    const time = async (photo: Uint8Array, until: string) => {
      const t = now();
      const res = await bench.fetch(`/?until=${until}&repeat=${inner}&flip=0`, { method: "POST", body: photo });
      await res.text();
      if (res.status !== 200) throw new Error(`${until}: HTTP ${res.status}`);
      return now() - t;
    };
    const supportsStages = (await bench.fetch(`/?until=limiter&repeat=1`, { method: "POST", body: small[0] })).status === 200;
    for (const [name, photos] of Object.entries(sets)) {
      try {
        for (const photo of photos) await time(photo, "infer"); // warm-up
        const prefixes = ["none", "decode", "detect", "align", "infer", ...(supportsStages ? STAGES : [])];
        const ms: Record<string, number[][]> = Object.fromEntries(prefixes.map((p) => [p, photos.map(() => [])]));
        for (let r = 0; r < repeat; r++)
          for (const [i, photo] of photos.entries()) for (const p of prefixes) ms[p][i].push(await time(photo, p));
        const step = (a: string, b: string) => median(photos.map((_, i) => Math.max(0, median(ms[b][i]) - median(ms[a][i])) / inner));
        workerd[name] = {
          decode: step("none", "decode"),
          detect: step("decode", "detect"),
          align: step("detect", "align"),
          infer: step("align", "infer"),
          total: step("none", "infer"),
        };
        if (supportsStages) workerd[name].stages = Object.fromEntries(STAGES.map((s) => [s, step(STAGE_BASE[s], s)]));
      } catch (err) {
        // The code before issue 15 could not decode a 12 MP JPEG within workerd's memory: recorded, not fatal.
        failures[`workerd ${name}`] = (err as Error).message;
      }
    }
  } finally {
    await bench.stop();
  }

  // ---- Node, per phase, same photos and models ----
  // One intra-op thread, like the single-threaded WASM in workerd: onnxruntime's default (one
  // spinning thread per core) steals the 2-core box from the JS phases and triples them.
  const { BLAZEFACE_BACK, BLAZEFACE_FRONT, loadCard } = await import("../src/cli/node-models");
  const { initDecodersForNode } = await import("../src/cli/node-decoders");
  const { createNodeBackend } = await import("../src/backends/node");
  const { AttributeModel } = await import("../src/inference/model");
  const { FaceDetector } = await import("../src/vision/detect");
  const { analyzePhoto } = await import("../src/inference/pipeline");
  await initDecodersForNode();
  const backend = createNodeBackend({ intraOpNumThreads: 1 });
  const detector = await FaceDetector.create(readFileSync(BLAZEFACE_FRONT), backend, { backModel: readFileSync(BLAZEFACE_BACK) });
  const models = await Promise.all(
    EDGE_CARDS.map((c) => {
      const { card, model } = loadCard(c);
      return AttributeModel.create(card, model, backend);
    }),
  );
  const node: Record<string, Phases> = {};
  for (const [name, photos] of Object.entries(sets)) {
    for (const photo of photos) await analyzePhoto(photo, detector, models, { flip: false });
    const per: Phases[][] = photos.map(() => []);
    for (let r = 0; r < repeat; r++) {
      for (const [i, photo] of photos.entries()) {
        const t = now();
        const { timings } = await analyzePhoto(photo, detector, models, { flip: false });
        per[i].push({ ...timings, total: now() - t });
      }
    }
    node[name] = Object.fromEntries(PHASES.map((p) => [p, median(per.map((runs) => median(runs.map((x) => x[p]))))])) as Phases;
  }

  // ---- the API, whole requests ----
  const { worker: api } = await startBenchWorker({
    script: "src/worker.ts",
    config: "wrangler.toml",
    vars: {
      PLANS: { free: { per_minute: 100000, per_day: 10000000, max_batch: 4 }, pro: { per_minute: 600, per_day: 100000, max_batch: 16 } },
    },
  });
  const apiResults: Record<string, { latency_ms: number; timing_ms: number; faces: number }> = {};
  try {
    for (const [name, photos] of Object.entries(sets)) {
      const latency: number[] = [];
      const timing: number[] = [];
      let faces = 0;
      try {
        for (let r = -1; r < repeat; r++) {
          for (const photo of photos) {
            const t = now();
            const res = await api.fetch("/v1/analyze?tier=fast", {
              method: "POST",
              body: unique(photo),
              headers: { "Content-Type": "image/jpeg" },
            });
            const text = await res.text();
            if (res.status !== 200) throw new Error(`HTTP ${res.status} ${text.slice(0, 120)}`);
            const body = JSON.parse(text) as { timing_ms: number; faces: unknown[] };
            if (r < 0) {
              faces += body.faces.length;
              continue;
            }
            latency.push(now() - t);
            timing.push(body.timing_ms);
          }
        }
        apiResults[name] = { latency_ms: median(latency), timing_ms: median(timing), faces };
      } catch (err) {
        failures[`API ${name}`] = (err as Error).message;
      }
    }
  } finally {
    await api.stop();
  }

  return {
    date: new Date().toISOString(),
    label: args.label,
    command: `npx tsx bench/intake.ts --images ${count} --repeat ${repeat} --inner ${inner} --label ${args.label}${args.before ? ` --before ${args.before}` : ""}`,
    models: edgeModels(),
    node_runtime: `${await nodeRuntimeName()}, 1 intra-op thread`,
    workerd_runtime: `workerd (local wrangler dev), compatibility date ${compatibilityDate}`,
    images: count,
    workerd,
    node,
    api: apiResults,
    failures,
  };
}

const dir = path.join(REPO_ROOT, "bench/results");
const report: Report = args["render-only"]
  ? JSON.parse(readFileSync(path.join(dir, `intake-${args.label}.json`), "utf8"))
  : await measure();
const before = args.before && existsSync(args.before) ? (JSON.parse(readFileSync(args.before, "utf8")) as Report) : null;
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b ? `${(a / b).toFixed(2)}×` : "–");
const fmt = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(1));
const { workerd, node, api } = report;
const failed = { ...before?.failures, ...report.failures };
const lines = [
  `# The fast tier on 400 px and 12 MP photos: workerd, Node, and the API (${report.label})`,
  "",
  // Runs recorded before the models field existed were the code before issue 15 (commit 6fac5f5).
  `${report.date} · \`${report.command}\` · ${report.models}, on ${report.node_runtime}` +
    (before
      ? `; before: ${before.date} · \`${before.command}\` · ${before.models ?? "the code before issue 15 (commit 6fac5f5)"}, on ${before.node_runtime}`
      : ""),
  "",
  `${report.images} MEBeauty photos (400–512 px) and the same upscaled to 4000×3000 (JPEG q92, 4:2:0, as phones write them). Edge models TinyAgeNet + TinyAttNet, no flip (tier=fast). Median over photos of each photo's median over the runs, ms.`,
  `workerd: ${report.workerd_runtime}, phases from differences of pipeline prefixes timed from outside. Node: ${report.node_runtime}, timed in-process.`,
  "",
  "| photos | phase | workerd ms | Node ms |" +
    (before ? " workerd before | Node before | workerd after/before | Node after/before |" : ""),
  "|---|---|---|---|" + (before ? "---|---|---|---|" : ""),
  ...SETS.flatMap((set) =>
    PHASES.map((p) => {
      const w = workerd[set]?.[p],
        n = node[set]?.[p];
      const bw = before?.workerd[set]?.[p],
        bn = before?.node[set]?.[p];
      return `| ${set} | ${p} | ${fmt(w)} | ${fmt(n)} |` + (before ? ` ${fmt(bw)} | ${fmt(bn)} | ${ratio(w, bw)} | ${ratio(n, bn)} |` : "");
    }),
  ),
  "",
  "Whole request through the API (the real worker, tier=fast, both attributes, a cache miss each time):",
  "",
  "| photos | client latency ms | timing_ms | faces |" +
    (before ? " latency before | timing_ms before | latency after/before | timing_ms after/before |" : ""),
  "|---|---|---|---|" + (before ? "---|---|---|---|" : ""),
  ...SETS.map((set) => {
    const a = api[set];
    const b = before?.api[set];
    return (
      `| ${set} | ${fmt(a?.latency_ms)} | ${fmt(a?.timing_ms)} | ${a?.faces ?? "–"} |` +
      (before
        ? ` ${fmt(b?.latency_ms)} | ${fmt(b?.timing_ms)} | ${ratio(a?.latency_ms, b?.latency_ms)} | ${ratio(a?.timing_ms, b?.timing_ms)} |`
        : "")
    );
  }),
  "",
  ...(workerd["400px"]?.stages
    ? [
        "A request by stage in workerd (ms; limiter = the RateLimiter Durable Object call, hash = SHA-256 of the body, cache = a Cache API lookup, then the pipeline phases, then render = the answer's faces built (src/api/render.ts) and serialised):",
        "",
        `| photos | ${REQUEST_STAGES.join(" | ")} |`,
        `|---|${REQUEST_STAGES.map(() => "---").join("|")}|`,
        ...SETS.filter((set) => workerd[set]?.stages).map(
          (set) =>
            `| ${set} | ${REQUEST_STAGES.map((st) => fmt((STAGES as readonly string[]).includes(st) ? workerd[set].stages![st] : workerd[set][st as keyof Phases])).join(" | ")} |`,
        ),
        "",
        "The rest of the API's latency is the request's own overhead (routing, key lookup, the HTTP response, the cache write after it).",
      ]
    : []),
  ...(Object.keys(failed).length
    ? ["", "Failed (recorded, not fatal):", "", ...Object.entries(failed).map(([k, v]) => `- ${k}: ${v}`)]
    : []),
  "",
];
mkdirSync(dir, { recursive: true });
if (!args["render-only"]) writeFileSync(path.join(dir, `intake-${report.label}.json`), JSON.stringify(report, null, 1) + "\n");
writeFileSync(path.join(dir, `intake-${report.label}.md`), lines.join("\n"));
console.log(lines.join("\n"));
