/**
 * GPU runner throughput and latency versus concurrency, dynamic batching on versus off.
 *
 *   npm run bench:runner -- [--provider cpu|cuda] [--model ThinAgeNet] [--duration 3]
 *                          [--concurrency 1,8,32,128] [--faces 1] [--rounds 2] [--threads 0] [--spinning 0]
 *                          [--out FILE]
 *
 * Starts two real runners on loopback (batching off: every request runs alone; batching on:
 * the default 2 ms window and max batch), each with only the chosen execution provider, so a
 * missing CUDA setup fails loudly instead of quietly measuring the CPU. For every concurrency
 * the two modes run closed-loop (each virtual client sends its next request when the last one
 * returns) for `duration` seconds each, split into ABBA-ordered slices (off, on, on, off, ...) so a
 * drift in background load hits both modes alike; the table gives faces/s and p50/p95 latency
 * with their ratios against batching off in the same run.
 */
import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { parseArgs } from "node:util";
import { decodeInferResponse, encodeInferRequest } from "@faceage/contracts/runner-protocol";
import { readCard, loadFaceCrops, metricValue, startRunnerProcess, type RunnerProcess } from "../gpu-runner/test/runner-process";
import { percentile } from "../test/support/stats";

const { values: args } = parseArgs({
  options: {
    provider: { type: "string", default: "cpu" },
    model: { type: "string", default: "ThinAgeNet" },
    duration: { type: "string", default: "3" },
    concurrency: { type: "string", default: "1,8,32,128" },
    faces: { type: "string", default: "1" },
    window: { type: "string", default: "2" },
    "max-batch": { type: "string", default: "32" },
    rounds: { type: "string", default: "2" },
    /** ONNX Runtime intra-op threads for the CPU provider (0: ONNX Runtime's default). */
    threads: { type: "string", default: "0" },
    /** 0: ONNX Runtime's intra-op threads sleep instead of spinning. */
    spinning: { type: "string", default: "0" },
    out: { type: "string" },
  },
});

const provider = args.provider!;
if (!["cpu", "cuda", "webgpu"].includes(provider)) throw new Error(`--provider must be cpu, cuda or webgpu`);
const durationS = Number(args.duration);
if (!(durationS > 0 && durationS <= 30)) throw new Error("--duration must be 0-30 seconds per point");
const levels = args.concurrency!.split(",").map(Number);
const facesPerRequest = Number(args.faces);
const SIZE = (await readCard(args.model!)).input.size;
const CROP = SIZE * SIZE * 3;
const secret = randomBytes(24).toString("hex");
const GRACE_MS = 10_000;

interface Point {
  concurrency: number;
  mode: "off" | "on";
  facesPerS: number;
  p50: number;
  p95: number;
  requests: number;
  errors: number;
  meanBatch: number;
}

async function metricsText(runner: RunnerProcess): Promise<string> {
  return (await fetch(`${runner.url}/metrics`, { headers: { authorization: `Bearer ${secret}` } })).text();
}

type Bodies = ReturnType<typeof encodeInferRequest>[];
interface Sample {
  latencies: number[];
  faces: number;
  errors: number;
  seconds: number;
}

async function load(runner: RunnerProcess, bodies: Bodies, concurrency: number, seconds: number): Promise<Sample> {
  const latencies: number[] = [];
  let errors = 0;
  let faces = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  // Requests still out at the deadline may finish (and count) within a grace period; then they are
  // aborted, so an overloaded point cannot stretch the bench without bound.
  const abort = AbortSignal.timeout(seconds * 1000 + GRACE_MS);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      let k = client;
      while (performance.now() < deadline) {
        const req = bodies[k++ % bodies.length];
        const t = performance.now();
        try {
          const res = await fetch(runner.url + req.path, {
            method: "POST",
            body: req.body,
            headers: { ...req.headers, authorization: `Bearer ${secret}` },
            signal: abort,
          });
          const bytes = new Uint8Array(await res.arrayBuffer());
          if (res.status !== 200) {
            errors++;
            continue;
          }
          decodeInferResponse(bytes, res.headers);
          latencies.push(performance.now() - t);
          faces += facesPerRequest;
        } catch {
          errors++;
        }
      }
    }),
  );
  return { latencies, faces, errors, seconds: (performance.now() - started) / 1000 };
}

/** Waits (at most GRACE_MS) until the runner has nothing queued, so aborted work cannot load the next slice. */
async function idle(runner: RunnerProcess): Promise<void> {
  const until = performance.now() + GRACE_MS;
  while (performance.now() < until) {
    if (metricValue(await metricsText(runner), "runner_queue_depth", { model: args.model! }) === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Measures both modes at one concurrency in ABBA-ordered slices and pools each mode's samples. */
async function measure(
  runners: Record<"off" | "on", RunnerProcess>,
  bodies: Bodies,
  concurrency: number,
  rounds: number,
): Promise<Point[]> {
  const labels = { model: args.model! };
  const order: ("off" | "on")[] = [];
  for (let r = 0; r < rounds; r++) order.push(...(r % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)));
  const pooled = { off: [] as Sample[], on: [] as Sample[] };
  const batches = { off: { rows: 0, runs: 0 }, on: { rows: 0, runs: 0 } };
  for (const mode of order) {
    await idle(runners.off);
    await idle(runners.on);
    const before = await metricsText(runners[mode]);
    pooled[mode].push(await load(runners[mode], bodies, concurrency, durationS / rounds));
    const after = await metricsText(runners[mode]);
    batches[mode].rows += metricValue(after, "runner_batch_size_sum", labels) - metricValue(before, "runner_batch_size_sum", labels);
    batches[mode].runs += metricValue(after, "runner_batch_size_count", labels) - metricValue(before, "runner_batch_size_count", labels);
  }
  return (["off", "on"] as const).map((mode) => {
    const samples = pooled[mode];
    const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
    const faces = samples.reduce((t, s) => t + s.faces, 0);
    const seconds = samples.reduce((t, s) => t + s.seconds, 0);
    return {
      concurrency,
      mode,
      facesPerS: faces / seconds,
      p50: percentile(latencies, 0.5),
      p95: percentile(latencies, 0.95),
      requests: latencies.length,
      errors: samples.reduce((t, s) => t + s.errors, 0),
      meanBatch: batches[mode].rows / Math.max(1, batches[mode].runs),
    };
  });
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  let gpu = "";
  if (provider === "cuda") {
    try {
      gpu = execSync("nvidia-smi --query-gpu=name,memory.total --format=csv,noheader", { encoding: "utf8" }).trim();
    } catch {
      gpu = "nvidia-smi unavailable";
    }
  }
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  return `${cpu}, ${os.cpus().length} logical cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB${gpu ? `; GPU: ${gpu}` : ""}; Node ${process.version}; load average at start ${load}`;
}

async function main() {
  const machineLine = machine();
  const crops = await loadFaceCrops(64, 0, SIZE);
  const bodies = Array.from({ length: Math.floor(64 / facesPerRequest) }, (_, i) =>
    encodeInferRequest(
      args.model!,
      crops.slice(i * facesPerRequest * CROP, (i + 1) * facesPerRequest * CROP),
      [facesPerRequest, SIZE, SIZE, 3],
      { binary: true },
    ),
  );
  const common = {
    RUNNER_SECRET: secret,
    RUNNER_MODELS: args.model!,
    RUNNER_PROVIDERS: provider,
    RUNNER_ACCESS_LOG: "0",
    RUNNER_MAX_QUEUE: "100000",
    RUNNER_BATCH_WINDOW_MS: args.window!,
    RUNNER_MAX_BATCH: args["max-batch"]!,
    RUNNER_INTRA_OP_THREADS: args.threads!,
    RUNNER_INTRA_OP_SPINNING: args.spinning!,
  };
  const runners = {
    off: await startRunnerProcess({ ...common, RUNNER_DYNAMIC_BATCHING: "0" }),
    on: await startRunnerProcess({ ...common, RUNNER_DYNAMIC_BATCHING: "1" }),
  };
  const points: Point[] = [];
  try {
    for (const [mode, runner] of Object.entries(runners)) {
      const meta = (await (
        await fetch(`${runner.url}/v2/models/${args.model}`, { headers: { authorization: `Bearer ${secret}` } })
      ).json()) as {
        parameters: { execution_provider: string };
      };
      if (meta.parameters.execution_provider !== provider)
        throw new Error(`${mode}: runner uses ${meta.parameters.execution_provider}, not ${provider}`);
      await load(runner, bodies, 4, 0.5); // warm-up
    }
    for (const c of levels) {
      for (const p of await measure(runners, bodies, c, Number(args.rounds))) {
        points.push(p);
        console.error(
          `c=${c} batching ${p.mode}: ${p.facesPerS.toFixed(1)} faces/s, p50 ${p.p50.toFixed(1)} ms, p95 ${p.p95.toFixed(1)} ms, mean batch ${p.meanBatch.toFixed(1)}, errors ${p.errors}`,
        );
      }
    }
  } finally {
    await Promise.all(Object.values(runners).map((r) => r.stop()));
  }

  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) + "x" : "n/a");
  const rows = points.map((p) => {
    const base = points.find((q) => q.concurrency === p.concurrency && q.mode === "off")!;
    return `| ${p.concurrency} | ${p.mode} | ${p.facesPerS.toFixed(1)} | ${p.p50.toFixed(1)} | ${p.p95.toFixed(1)} | ${p.meanBatch.toFixed(1)} | ${p.requests} | ${p.errors} | ${ratio(p.facesPerS, base.facesPerS)} | ${ratio(p.p50, base.p50)} | ${ratio(p.p95, base.p95)} |`;
  });
  const command = `npm run bench:runner -- ${process.argv.slice(2).join(" ")}`.trim();
  const report = [
    `### ${args.model}, provider \`${provider}\`, ${facesPerRequest} face(s) per request`,
    "",
    `- Command: \`${command}\``,
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${machineLine}`,
    `- Each mode ${durationS} s per concurrency, in ${args.rounds} ABBA-ordered slices; closed loop, binary tensor encoding, loopback.`,
    `- Batching on: window ${args.window} ms, max batch ${args["max-batch"]}; off: every request runs alone. One model run at a time per model in both; ONNX Runtime intra-op threads: ${args.threads === "0" ? "default" : args.threads}, spinning ${args.spinning === "0" ? "off" : "on"}.`,
    "",
    "| concurrency | batching | faces/s | p50 ms | p95 ms | mean batch | requests | errors | faces/s vs off | p50 vs off | p95 vs off |",
    "|---:|:--|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
  ].join("\n");
  console.log(report);
  if (args.out) await writeFile(args.out, report);
}

await main();
