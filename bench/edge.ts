/**
 * Edge API bench: requests/s and p50/p95 latency per tier against the local stack (the GPU runner
 * on this CPU and the worker in local workerd via `wrangler dev`, both on loopback), with
 * autocannon, each scenario bounded in time.
 *
 *   npm run bench:edge -- [--duration 15] [--connections 4] [--out bench/results/edge.md]
 *
 * Scenarios: `cache hit` (the same photo again: answered from the Cache API without decoding),
 * `fast` (TinyAgeNet + TinyAttNet in the worker) and `standard` (ThinAgeNet + ThinAttNet on the
 * runner). The uncached scenarios send real photos from mebeauty/photos, each request with unique
 * bytes (a JPEG comment segment carrying a counter: same pixels, new SHA-256), so none is a hit.
 * The route of every answer is counted from the worker's request log. Also records the
 * `wrangler deploy --dry-run` bundle size against the Workers limits.
 */
import { spawnSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../scripts/lib/repo";
import { startStack } from "../scripts/lib/stack";
import { WRANGLER } from "../scripts/lib/workerd";
import { createKey } from "../test/support/keys";
import { photos as mebeautyPhotos, withComment } from "../test/support/photos";
import { failures, measureLoad, type LoadResult } from "./support/load";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "15" },
    connections: { type: "string", default: "4" },
    photos: { type: "string", default: "300" },
    out: { type: "string", default: "bench/results/edge.md" },
  },
});
const durationS = Number(args.duration);
const connections = Number(args.connections);

interface Bundle {
  total: string;
  gzip: string;
  gzipKiB: number;
  /** Each module of the upload, gzip -9 size (KiB), largest first. */
  modules: { name: string; kib: number; gzipKiB: number }[];
}

function bundleSize(): Bundle | null {
  const out = mkdtempSync(path.join(tmpdir(), "edge-dry-"));
  try {
    const r = spawnSync(process.execPath, [WRANGLER, "deploy", "--dry-run", "--outdir", out], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    const m = /Total Upload: ([\d.]+ KiB) \/ gzip: ([\d.]+) KiB/.exec(r.stdout + r.stderr);
    if (!m) return null;
    const modules = readdirSync(out)
      .filter((f) => !f.endsWith(".map") && f !== "README.md")
      .map((f) => {
        const bytes = readFileSync(path.join(out, f));
        return { name: f.replace(/^[0-9a-f]{40}-/, ""), kib: bytes.length / 1024, gzipKiB: gzipSync(bytes, { level: 9 }).length / 1024 };
      })
      .sort((a, b) => b.gzipKiB - a.gzipKiB);
    return { total: m[1], gzip: `${m[2]} KiB`, gzipKiB: Number(m[2]), modules };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const photos = mebeautyPhotos(Number(args.photos));

  // A key on a plan whose limits the bench cannot reach, created with the admin CLI in the
  // state folder the local worker will use.
  const state = mkdtempSync(path.join(tmpdir(), "edge-bench-"));
  const { key } = createKey(state, "enterprise", "bench");

  console.log("starting the local stack (runner on CPU + wrangler dev) ...");
  const stack = await startStack({
    port: 0,
    runnerPort: 0,
    persistTo: state,
    vars: {
      PLANS: JSON.stringify({
        free: { per_minute: 10, per_day: 500 },
        enterprise: { per_minute: 1_000_000, per_day: 100_000_000, max_batch: 32 },
      }),
      STANDARD_DEADLINE_MS: "5000",
    },
    runnerEnv: { RUNNER_INTRA_OP_THREADS: "1", RUNNER_LOG_LEVEL: "warn" },
  });
  const results: LoadResult[] = [];
  try {
    let counter = 0;
    const unique = () => withComment(photos[counter % photos.length], `bench ${process.pid} ${counter++}`);
    const headers = { authorization: `Bearer ${key}`, "content-type": "image/jpeg" };
    const scenarios: { name: string; query: string; body: () => Buffer }[] = [
      { name: "cache hit", query: "tier=fast", body: () => photos[0] },
      { name: "fast", query: "tier=fast", body: unique },
      { name: "standard", query: "tier=standard", body: unique },
    ];
    for (const s of scenarios) {
      // Three warm-ups: model load, JIT and, for the cache scenario, the entry itself.
      results.push(await measureLoad({ ...s, url: stack.url, headers, connections, durationS, warmup: 3 }));
      console.log(results.at(-1));
    }
  } finally {
    await stack.stop();
    rmSync(state, { recursive: true, force: true });
  }

  const bundle = bundleSize();
  const row = (r: LoadResult) =>
    `| ${r.name} | ${r.requests} | ${r.rps.toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.p99.toFixed(0)} | ${failures(r)} | ${Object.entries(
      r.routes,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")} |`;
  const md = `# Edge API bench (local stack)

\`npm run bench:edge -- --duration ${durationS} --connections ${connections}\` on ${new Date().toISOString().slice(0, 16)}Z.
Worker in local workerd (\`wrangler dev --local\`), GPU runner on this machine's CPU (ONNX Runtime CPU
provider, 1 intra-op thread), loopback only, autocannon with ${connections} connections for ${durationS} s per
scenario. Machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, a small CPU host, so
absolute numbers are pessimistic and noisy; a GPU host runs \`standard\` much faster.

| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | non-2xx | answers by route |
|---|---:|---:|---:|---:|---:|---:|---|
${results.map(row).join("\n")}

- **cache hit**: the same photo again; answered from the Cache API after hashing the bytes (no decode, no model).
- **fast**: real photos (mebeauty/photos), every request unique bytes; decode + BlazeFace + TinyAgeNet + TinyAttNet in the worker (onnxruntime-web, WASM, single thread).
- **standard**: the same, with ThinAgeNet + ThinAttNet on the runner over the KServe v2 binary protocol (route \`gpu\`); \`edge-fallback\` would count answers given by the worker because the runner was late or down.

## Bundle size (\`wrangler deploy --dry-run\`)

${
  bundle
    ? `Total upload ${bundle.total}, **${bundle.gzip} compressed**.

| module | KiB | gzip KiB |
|---|---:|---:|
${bundle.modules.map((m) => `| ${m.name} | ${m.kib.toFixed(0)} | ${m.gzipKiB.toFixed(0)} |`).join("\n")}

| Workers plan | compressed limit | this worker |
|---|---:|---|
| Free | 3 MiB (3072 KiB) | ${bundle.gzipKiB > 3072 ? "over" : "fits"} |
| Paid | 10 MiB (10240 KiB) | ${bundle.gzipKiB > 10240 ? `over by ${(bundle.gzipKiB - 10240).toFixed(0)} KiB` : `fits (${(10240 - bundle.gzipKiB).toFixed(0)} KiB to spare)`} |`
    : "(dry run failed)"
}

ThinAgeNet and ThinAttNet are not in the bundle (only their cards): they run on the runner. The
edge models' weights are stored as float16 by the training export (training/dldl/export.py), which
halved them. If the bundle outgrows the paid limit again: (1) keep the edge models' weights out of
the script, in KV or R2, loaded once per isolate on first use (the bundle is then ~4.4 MiB); (2) an
onnxruntime-web build reduced to the operators these models use, whose wasm is several times
smaller. The free plan's 3 MiB needs (2): onnxruntime-web's wasm alone is ~3.5 MiB compressed.
`;
  writeFileSync(path.resolve(REPO_ROOT, args.out!), md);
  console.log(md);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
