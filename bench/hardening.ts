/**
 * Hardening bench, one run on the local stack (GPU runner on this CPU + worker in `wrangler dev`,
 * loopback only, every phase bounded in time):
 *
 * 1. requests/s and p50/p95/p99 per tier (cache hit, fast, standard, accurate) with autocannon;
 * 2. a runner outage (the runner process stopped): `standard`'s fallback rate and latency, and
 *    how fast `accurate` is refused;
 * 3. a fast-check fuzz over HTTP (random, truncated, bit-flipped real JPEG/PNG/WebP photos):
 *    cases tried and how many broke the contract (5xx, hang, non-problem 4xx).
 *
 *   npm run bench:hardening -- [--duration 10] [--connections 4] [--fuzz 150] [--out bench/results/hardening.md]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import fc from "fast-check";
import sharp from "sharp";
import { REPO_ROOT, startStack, type Stack } from "../scripts/stack";
import { createKey, photos, withComment } from "../test/node/hardening/support";
import { measureLoad, type LoadResult } from "./support/load";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "4" },
    fuzz: { type: "string", default: "150" },
    "fuzz-seconds": { type: "string", default: "40" },
    out: { type: "string", default: "bench/results/hardening.md" },
  },
});
const durationS = Number(args.duration);
const connections = Number(args.connections);

type Row = LoadResult;

async function main(): Promise<void> {
  const images = photos(100);
  const state = mkdtempSync(path.join(tmpdir(), "hardening-bench-"));
  const { key } = createKey(state, "enterprise", "bench");
  console.log("starting the local stack (runner on CPU + wrangler dev) ...");
  const stack: Stack = await startStack({
    port: 0,
    runnerPort: 0,
    persistTo: state,
    vars: {
      PLANS: JSON.stringify({ free: { per_minute: 10, per_day: 500 }, enterprise: { per_minute: 1_000_000, per_day: 100_000_000, max_batch: 32 } }),
      STANDARD_DEADLINE_MS: "2000",
      ACCURATE_DEADLINE_MS: "5000",
      BREAKER_OPEN_MS: "3000",
    },
    runnerEnv: { RUNNER_INTRA_OP_THREADS: "1", RUNNER_LOG_LEVEL: "warn", RUNNER_MODELS: "ThinAgeNet,ThinAttNet" },
  });
  const headers = { authorization: `Bearer ${key}`, "content-type": "image/jpeg" };
  let counter = 0;
  const unique = () => withComment(images[counter % images.length], `hardening ${process.pid} ${counter++}`);
  const rows: Row[] = [];

  const measure = async (name: string, query: string, body: () => Buffer, warm = true): Promise<Row> => {
    const row = await measureLoad({ name, url: stack.url, query, headers, body, connections, durationS, warmup: warm ? 2 : 0 });
    console.log(row);
    rows.push(row);
    return row;
  };

  let fuzz = { cases: 0, violations: 0, statuses: {} as Record<string, number>, seed: 0, seconds: 0 };
  try {
    await measure("cache hit", "tier=fast", () => images[0]);
    await measure("fast", "tier=fast", unique);
    await measure("standard", "tier=standard", unique);
    await measure("accurate", "tier=accurate", unique);

    // The runner goes away: what standard and accurate do meanwhile.
    await stack.stopRunner();
    const outageStandard = await measure("standard, runner down", "tier=standard", unique, false);
    const outageAccurate = await measure("accurate, runner down", "tier=accurate", unique, false);
    await stack.startRunner();

    fuzz = await fuzzOverHttp(stack.url, key, Number(args.fuzz), Number(args["fuzz-seconds"]));
    console.log("fuzz", fuzz);

    const fallbackRate = (outageStandard.routes["edge-fallback"] ?? 0) / Math.max(1, outageStandard.requests);
    const refusedRate = (outageAccurate.statuses["503"] ?? 0) / Math.max(1, outageAccurate.requests);
    writeReport(rows, fuzz, fallbackRate, refusedRate);
  } finally {
    await stack.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

/** Random and mutated real photos (small re-encodings, so decodable cases are quick), over HTTP. */
async function fuzzOverHttp(url: string, key: string, maxCases: number, maxSeconds: number) {
  const base = photos(3);
  const seeds = await Promise.all([
    sharp(base[0]).resize(160).jpeg({ quality: 85 }).toBuffer(),
    sharp(base[1]).resize(160).png().toBuffer(),
    sharp(base[2]).resize(160).webp({ quality: 85 }).toBuffer(),
  ]);
  const seed = Date.now() % 2 ** 31;
  const statuses: Record<string, number> = {};
  let cases = 0;
  let violations = 0;
  const until = Date.now() + maxSeconds * 1000;
  const started = Date.now();
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 2048 }),
    fc.tuple(fc.nat(2), fc.double({ min: 0, max: 1, noNaN: true })).map(([i, f]) => seeds[i].subarray(0, Math.floor(f * seeds[i].length))),
    fc.tuple(fc.nat(2), fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.nat(7)), { minLength: 1, maxLength: 16 })).map(([i, flips]) => {
      const b = Buffer.from(seeds[i]);
      for (const [p, bit] of flips) b[Math.floor(p * b.length)] ^= 1 << bit;
      return b;
    }),
  );
  const query = fc.constantFrom("tier=fast&attributes=age", "tier=fast", "tier=standard", "max_faces=0", "tier=%00", "explain=1");
  await fc.assert(
    fc.asyncProperty(body, query, fc.constantFrom("image/jpeg", "image/png", "text/plain", "multipart/form-data"), async (b, q, ct) => {
      if (Date.now() > until) return; // bounded in time: the rest are skipped, not counted
      cases += 1;
      let ok = false;
      try {
        const res = await fetch(`${url}/v1/analyze?${q}`, { method: "POST", body: new Uint8Array(b), headers: { authorization: `Bearer ${key}`, "content-type": ct }, signal: AbortSignal.timeout(30_000) });
        const text = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        ok = res.status < 300 || (res.status < 500 && res.headers.get("content-type") === "application/problem+json" && JSON.parse(text).status === res.status);
      } catch {
        statuses.hang = (statuses.hang ?? 0) + 1;
      }
      if (!ok) violations += 1;
    }),
    { numRuns: maxCases, seed },
  );
  return { cases, violations, statuses, seed, seconds: (Date.now() - started) / 1000 };
}

function writeReport(rows: Row[], fuzz: { cases: number; violations: number; statuses: Record<string, number>; seed: number; seconds: number }, fallbackRate: number, refusedRate: number): void {
  const fmt = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(", ");
  const md = `# Hardening bench (local stack)

\`npm run bench:hardening -- --duration ${durationS} --connections ${connections} --fuzz ${args.fuzz}\` on ${new Date().toISOString().slice(0, 16)}Z.
Worker in local workerd (\`wrangler dev\`), GPU runner on this machine's CPU (1 intra-op thread),
loopback only, autocannon with ${connections} connections for ${durationS} s per row; \`standard\` deadline 2000 ms,
\`accurate\` 5000 ms. Machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, shared with a PyTorch training job and
other test runs, so absolute numbers are pessimistic and noisy. Real MEBeauty photos, each
uncached request with unique bytes (a JPEG comment), so only the first row hits the cache.

| scenario | requests | req/s | p50 ms | p95 ms | p99 ms | statuses | answers by route | errors |
|---|---:|---:|---:|---:|---:|---|---|---:|
${rows.map((r) => `| ${r.name} | ${r.requests} | ${r.rps.toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.p99.toFixed(0)} | ${fmt(r.statuses)} | ${fmt(r.routes)} | ${r.errors} |`).join("\n")}

| during a runner outage | |
|---|---:|
| \`standard\` answered by the edge fallback | **${(fallbackRate * 100).toFixed(1)}%** of requests |
| \`accurate\` refused with 503 | **${(refusedRate * 100).toFixed(1)}%** of requests |

| fuzz over HTTP (this run) | |
|---|---:|
| cases tried | **${fuzz.cases}** in ${fuzz.seconds.toFixed(0)} s (seed ${fuzz.seed}) |
| contract violations (5xx, hang, 4xx without a problem document) | **${fuzz.violations}** |
| statuses | ${fmt(fuzz.statuses)} |

The exact checks live in the tests: \`test/worker/hardening/fuzz.test.ts\` (about 400 cases per CI run
in workerd, printed as \`[hardening/fuzz] N cases\`), \`test/node/hardening/faults.test.ts\` (runner killed,
slow, garbage, back; every request accounted for), \`test/node/hardening/limits.test.ts\` (exact
admission under concurrency, daily quota across a worker restart). Findings: [docs/SECURITY.md](../../docs/SECURITY.md).
`;
  writeFileSync(path.resolve(REPO_ROOT, args.out!), md);
  console.log(md);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
