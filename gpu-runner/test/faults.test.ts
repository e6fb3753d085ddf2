/**
 * The runner under faults, as a real child process with real ONNX Runtime sessions: a caller that
 * disconnects while queued is dropped before its run (and counted); a session thread that dies is
 * restarted and serves again within seconds; restarts that keep failing make liveness fail.
 * The session is killed through the test hook (RUNNER_TEST_HOOKS=1), and a restart is made to fail
 * by corrupting the weights on disk, which every restart reads and checks again.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeInferResponse, encodeInferRequest } from "@faceage/contracts/runner-protocol";
import { REPO_ROOT, readCard, loadFaceCrops, metricValue, startRunnerProcess, type RunnerProcess } from "./runner-process";

const SECRET = "test-secret-0123456789abcdef";
const MODEL = "ThinAgeNet";
const SIZE = (await readCard(MODEL)).input.size;
const CROP = SIZE * SIZE * 3;
const auth = { authorization: `Bearer ${SECRET}` };
const SLOW = { timeout: 240_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let runner: RunnerProcess;
let crops: Uint8Array;
let modelsDir: string;
let weightsFile: string;

function inferRequest(n: number, signal?: AbortSignal) {
  const req = encodeInferRequest(MODEL, crops.subarray(0, n * CROP), [n, SIZE, SIZE, 3], { binary: true });
  return fetch(runner.url + req.path, { method: "POST", body: req.body, headers: { ...req.headers, ...auth }, signal });
}

async function metrics(): Promise<string> {
  return (await fetch(`${runner.url}/metrics`, { headers: auth })).text();
}

async function status(path: string): Promise<number> {
  return (await fetch(runner.url + path)).status;
}

/** Polls until `check` holds; returns the milliseconds it took. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms\n${runner.lines.slice(-20).join("\n")}`);
    await sleep(50);
  }
  return Date.now() - started;
}

beforeAll(async () => {
  // The weights live in a folder of the test's own, so a restart can be made to fail.
  modelsDir = await mkdtemp(path.join(os.tmpdir(), "runner-faults-"));
  const card = await readCard(MODEL);
  await copyFile(path.join(REPO_ROOT, "models", `${MODEL}.json`), path.join(modelsDir, `${MODEL}.json`));
  weightsFile = path.join(modelsDir, card.file);
  await copyFile(path.join(REPO_ROOT, "models", card.file), weightsFile);
  [runner, crops] = await Promise.all([
    startRunnerProcess({
      MODELS: modelsDir,
      RUNNER_SECRET: SECRET,
      RUNNER_MODELS: MODEL,
      RUNNER_PROVIDERS: "cpu",
      RUNNER_INTRA_OP_THREADS: "1",
      RUNNER_ACCESS_LOG: "0",
      RUNNER_TEST_HOOKS: "1",
      // Long enough to see the model down between a death and its restart; short enough for a test.
      RUNNER_RESTART_BACKOFF_MS: "1000",
      RUNNER_RESTART_BACKOFF_MAX_MS: "2000",
      RUNNER_RESTART_MAX_FAILURES: "3",
    }),
    loadFaceCrops(32, 0, SIZE),
  ]);
}, 240_000);

afterAll(async () => {
  await runner?.stop();
  if (modelsDir) await rm(modelsDir, { recursive: true, force: true });
});

describe("runner faults (real process)", () => {
  it("a client that disconnects while its request is queued is dropped before the run, and counted", SLOW, async () => {
    expect((await inferRequest(1)).status).toBe(200); // warm, and the histograms have a series
    const before = await metrics();
    const batches = () => metricValue(before, "runner_batch_size_count", { model: MODEL });
    const rowsBefore = metricValue(before, "runner_batch_size_sum", { model: MODEL });
    // Three full batches: one runs, two wait behind it (one run at a time per model).
    const busy = Array.from({ length: 3 }, () => inferRequest(32));
    await until(async () => metricValue(await metrics(), "runner_queue_depth", { model: MODEL }) >= 2, 60_000, "work queued");
    const client = new AbortController();
    const abandoned = inferRequest(5, client.signal);
    await until(async () => metricValue(await metrics(), "runner_queue_depth", { model: MODEL }) >= 3, 60_000, "the 5-crop request queued");
    client.abort();
    await expect(abandoned).rejects.toThrow();
    for (const res of await Promise.all(busy)) {
      expect(res.status).toBe(200);
      expect(decodeInferResponse(new Uint8Array(await res.arrayBuffer()), res.headers).outputs.value.shape).toEqual([32]);
    }
    const after = await metrics();
    expect(metricValue(after, "runner_cancelled_total", { model: MODEL, stage: "queued" })).toBe(1);
    // Exactly the three full batches ran: the abandoned 5 crops never reached the model.
    expect(metricValue(after, "runner_batch_size_count", { model: MODEL }) - batches()).toBe(3);
    expect(metricValue(after, "runner_batch_size_sum", { model: MODEL }) - rowsBefore).toBe(96);
    expect(metricValue(after, "runner_queue_depth", { model: MODEL })).toBe(0);
  });

  it("a killed session thread is restarted: 503 with Retry-After meanwhile, then a correct answer within seconds", SLOW, async () => {
    const before = await inferRequest(4);
    const reference = decodeInferResponse(new Uint8Array(await before.arrayBuffer()), before.headers);
    const crash = await fetch(`${runner.url}/v2/test/models/${MODEL}/crash-session`, { method: "POST", headers: auth });
    expect(crash.status).toBe(202);
    const killedAt = Date.now();
    await until(async () => (await status("/v2/health/ready")) === 503, 5000, "readiness 503 after the kill");
    // Down, honestly: not ready, infer refused with Retry-After, but still live (it is being restarted).
    const refused = await inferRequest(1);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/restart/);
    expect(await status("/v2/health/live")).toBe(200);

    await until(async () => (await status("/v2/health/ready")) === 200, 15_000, "readiness back");
    const res = await inferRequest(4);
    expect(res.status).toBe(200);
    const again = decodeInferResponse(new Uint8Array(await res.arrayBuffer()), res.headers);
    expect(Array.from(again.outputs.value.data as Float32Array)).toEqual(Array.from(reference.outputs.value.data as Float32Array));
    const tookMs = Date.now() - killedAt;
    console.log(`[runner/faults] session killed -> serving again in ${tookMs} ms`);
    expect(tookMs).toBeLessThan(10_000);
    const m = await metrics();
    expect(metricValue(m, "runner_session_restarts_total", { model: MODEL, outcome: "ok" })).toBe(1);
    expect(metricValue(m, "runner_session_up", { model: MODEL })).toBe(1);
    expect(runner.records().some((r) => r.msg === "session worker died; restarting it" && r.model === MODEL)).toBe(true);
  });

  it("liveness fails when restarts keep failing, and recovers once a restart succeeds", SLOW, async () => {
    const good = await readFile(weightsFile);
    await writeFile(weightsFile, Buffer.alloc(good.length)); // same size, wrong sha256
    try {
      expect((await fetch(`${runner.url}/v2/test/models/${MODEL}/crash-session`, { method: "POST", headers: auth })).status).toBe(202);
      await until(async () => (await status("/v2/health/ready")) === 503, 5000, "readiness 503 after the kill");
      expect(await status("/v2/health/live")).toBe(200); // restarts are still being tried
      // 3 failed restarts, 1 + 2 + 2 s apart.
      await until(async () => (await status("/v2/health/live")) === 503, 30_000, "liveness 503");
      const m = await metrics();
      expect(metricValue(m, "runner_session_restarts_total", { model: MODEL, outcome: "failed" })).toBeGreaterThanOrEqual(3);
      expect(metricValue(m, "runner_session_up", { model: MODEL })).toBe(0);
      const live = await fetch(`${runner.url}/v2/health/live`);
      expect(live.headers.get("content-type")).toContain("application/problem+json");
      expect(((await live.json()) as { detail: string }).detail).toContain(MODEL);
      expect(runner.records().some((r) => r.msg === "session restart failed" && String(r.error).includes("sha256"))).toBe(true);
    } finally {
      await writeFile(weightsFile, good);
    }
    // Attempts go on at the longest back-off: with the weights back, it serves and is live again.
    await until(async () => (await status("/v2/health/ready")) === 200, 15_000, "readiness back");
    expect(await status("/v2/health/live")).toBe(200);
    expect((await inferRequest(1)).status).toBe(200);
  });
});
