/**
 * int8 vs fp32 fast-tier models (issue 15, item 3): inference time in onnxruntime-web (WASM,
 * single thread, SIMD build, as the worker runs it) and, for reference, onnxruntime-node (native).
 * Standalone: imports nothing from src/ (it creates the sessions the way
 * src/inference/backends/web.ts and node.ts do).
 *
 *   nice -n 5 npx tsx bench/int8.ts [--models TinyAgeNet,TinyAttNet] [--variants qdq,qdq-ends]
 *        [--rounds 150] [--warmup 15] [--native-threads 1] [--json bench/results/int8.json]
 *
 * For each model: the served models/<Name>.onnx ("fp32") and models/int8/<Name>.<variant>.onnx.
 * Rounds are interleaved: every round runs each variant once at batch 1 and once at batch 2, the
 * variant order rotating by round, so load from other processes on the machine falls on all of
 * them alike. Reports the median (and p10/p90) ms per run and each variant's median / fp32's.
 * Also checks that WASM and native agree: max |value(web) - value(node)| on real val crops.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import * as ortNode from "onnxruntime-node";
import * as ortWeb from "onnxruntime-web/wasm";
import { percentile } from "../test/support/stats";

const REPO = path.resolve(import.meta.dirname, "..");
const { values: args } = parseArgs({
  options: {
    models: { type: "string", default: "TinyAgeNet,TinyAttNet" },
    variants: { type: "string", default: "qdq,qdq-ends" },
    rounds: { type: "string", default: "150" },
    warmup: { type: "string", default: "15" },
    "native-threads": { type: "string", default: "1" },
    "skip-native": { type: "boolean", default: false },
    json: { type: "string" },
  },
});
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.wasm.proxy = false;
ortWeb.env.wasm.simd = true;

type Runner = (x: Uint8Array, n: number) => Promise<Record<string, { data: unknown; dims: readonly number[] }>>;

async function webSession(bytes: Uint8Array): Promise<Runner> {
  const s = await ortWeb.InferenceSession.create(bytes, { executionProviders: ["wasm"], logSeverityLevel: 3 });
  return (x, n) => s.run({ image: new ortWeb.Tensor("uint8", x, [n, 64, 64, 3]) }) as never;
}
async function nodeSession(bytes: Uint8Array): Promise<Runner> {
  const s = await ortNode.InferenceSession.create(bytes, {
    logSeverityLevel: 3,
    intraOpNumThreads: Number(args["native-threads"]),
    interOpNumThreads: 1,
  });
  return (x, n) => s.run({ image: new ortNode.Tensor("uint8", x, [n, 64, 64, 3]) }) as never;
}

/** uint8 .npy (the training data cache) -> raw NHWC bytes. */
function readNpyU8(file: string): { data: Uint8Array; n: number } {
  const buf = readFileSync(file);
  const headerLen = buf.readUInt16LE(8);
  const header = buf.subarray(10, 10 + headerLen).toString("latin1");
  if (!header.includes("|u1")) throw new Error(`${file}: not uint8`);
  const n = Number(/shape': \((\d+),/.exec(header)![1]);
  return { data: new Uint8Array(buf.buffer, buf.byteOffset + 10 + headerLen, n * 64 * 64 * 3), n };
}

function crops(): Uint8Array {
  const cache = path.join(REPO, "data/cache/utkface-val-64-2367-64.npy");
  if (existsSync(cache)) return readNpyU8(cache).data.slice(0, 64 * 64 * 64 * 3); // 64 real val crops
  const x = new Uint8Array(64 * 64 * 64 * 3);
  let s = 1;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0; // fallback: noise
    x[i] = s >>> 24;
  }
  return x;
}

const quantile = percentile;

interface Row {
  model: string;
  runtime: string;
  variant: string;
  batch: number;
  bytes: number;
  median: number;
  p10: number;
  p90: number;
  ratio: number;
}

async function bench(runtime: "web" | "node", model: string, files: [string, Uint8Array][], data: Uint8Array): Promise<Row[]> {
  const make = runtime === "web" ? webSession : nodeSession;
  const runners = await Promise.all(files.map(([, b]) => make(b)));
  const batches = [1, 2];
  const inputs = batches.map((n) => data.slice(0, n * 64 * 64 * 3));
  const times = files.map(() => batches.map(() => [] as number[]));
  for (let r = -WARMUP; r < ROUNDS; r++) {
    for (let k = 0; k < files.length; k++) {
      const v = (k + Math.max(0, r)) % files.length;
      for (let b = 0; b < batches.length; b++) {
        const t = performance.now();
        await runners[v](inputs[b], batches[b]);
        const dt = performance.now() - t;
        if (r >= 0) times[v][b].push(dt);
      }
    }
  }
  const rows: Row[] = [];
  for (let b = 0; b < batches.length; b++) {
    const base = quantile(times[0][b], 0.5);
    files.forEach(([variant, bytes], v) => {
      const t = times[v][b];
      rows.push({
        model,
        runtime: runtime === "web" ? "onnxruntime-web wasm 1t" : `onnxruntime-node ${args["native-threads"]}t`,
        variant,
        batch: batches[b],
        bytes: bytes.length,
        median: quantile(t, 0.5),
        p10: quantile(t, 0.1),
        p90: quantile(t, 0.9),
        ratio: quantile(t, 0.5) / base,
      });
    });
  }
  return rows;
}

/** max |value(web) - value(node)| and max |value(variant) - value(fp32)| (web) on 64 real crops. */
async function agreement(files: [string, Uint8Array][], data: Uint8Array) {
  const out: Record<string, { web_vs_node: number; vs_fp32_web: number; mean_abs_vs_fp32_web: number }> = {};
  const n = data.length / (64 * 64 * 3);
  let ref: Float32Array | null = null;
  for (const [variant, bytes] of files) {
    const w = (await (await webSession(bytes))(data, n)).value.data as Float32Array;
    const nd = (await (await nodeSession(bytes))(data, n)).value.data as Float32Array;
    ref ??= w;
    let a = 0,
      b = 0,
      c = 0;
    for (let i = 0; i < n; i++) {
      a = Math.max(a, Math.abs(w[i] - nd[i]));
      b = Math.max(b, Math.abs(w[i] - ref[i]));
      c += Math.abs(w[i] - ref[i]) / n;
    }
    out[variant] = { web_vs_node: a, vs_fp32_web: b, mean_abs_vs_fp32_web: c };
  }
  return out;
}

async function main() {
  const data = crops();
  const all: Row[] = [];
  const agree: Record<string, unknown> = {};
  for (const model of args.models.split(",")) {
    const files: [string, Uint8Array][] = [["fp32", readFileSync(path.join(REPO, "models", `${model}.onnx`))]];
    for (const v of args.variants.split(",").filter(Boolean))
      files.push([v, readFileSync(path.join(REPO, "models/int8", `${model}.${v}.onnx`))]);
    agree[model] = await agreement(files, data);
    console.log(model, "agreement (value units) on 64 utkface val crops:", JSON.stringify(agree[model]));
    for (const runtime of args["skip-native"] ? (["web"] as const) : (["web", "node"] as const)) {
      const rows = await bench(runtime, model, files, data);
      all.push(...rows);
      for (const r of rows)
        console.log(
          `${r.model.padEnd(11)} ${r.runtime.padEnd(24)} ${r.variant.padEnd(9)} b${r.batch}  median ${r.median.toFixed(2).padStart(6)} ms  (p10 ${r.p10.toFixed(2)}, p90 ${r.p90.toFixed(2)})  x${r.ratio.toFixed(3)} of fp32`,
        );
    }
  }
  // both attributes on one face, as the fast tier does (age + attractiveness, batch 1)
  const models = args.models.split(",");
  if (models.length > 1) {
    for (const runtime of new Set(all.map((r) => r.runtime))) {
      for (const variant of new Set(all.map((r) => r.variant))) {
        const sum = (b: number, v: string) =>
          models.reduce(
            (s, m) => s + (all.find((r) => r.model === m && r.runtime === runtime && r.variant === v && r.batch === b)?.median ?? NaN),
            0,
          );
        console.log(
          `both models ${runtime.padEnd(24)} ${variant.padEnd(9)} b1 ${sum(1, variant).toFixed(2)} ms (x${(sum(1, variant) / sum(1, "fp32")).toFixed(3)})   b2 ${sum(2, variant).toFixed(2)} ms (x${(sum(2, variant) / sum(2, "fp32")).toFixed(3)})`,
        );
      }
    }
  }
  if (args.json) {
    const out = path.resolve(REPO, args.json);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify({ rounds: ROUNDS, warmup: WARMUP, node: process.version, agreement: agree, rows: all }, null, 1) + "\n",
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
