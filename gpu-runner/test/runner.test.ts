/**
 * End-to-end: the real runner as a child process, real UTKFace crops, real ONNX Runtime.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  INFERENCE_HEADER_CONTENT_LENGTH,
  decodeInferResponse,
  encodeInferRequest,
  type DecodedInferResponse,
} from "@faceage/contracts/runner-protocol";
import { REPO_ROOT, readCard, loadFaceCrops, metricValue, startRunnerProcess, type RunnerProcess } from "./runner-process";

const SECRET = "test-secret-0123456789abcdef";
const MODEL = "ThinAgeNet";
const SIZE = (await readCard(MODEL)).input.size;
const CROP = SIZE * SIZE * 3;
const OUTPUTS = ["probs", "value", "scoremap"] as const;
const auth = { authorization: `Bearer ${SECRET}` };
// Tests that start processes or run full batches: generous, because the CI host is shared.
const SLOW = { timeout: 240_000 };

type Reference = Record<(typeof OUTPUTS)[number], { dims: readonly number[]; data: Float32Array }>;

async function referenceRun(model: string, crops: Uint8Array, n: number): Promise<Reference> {
  const session = await ort.InferenceSession.create(path.join(REPO_ROOT, "models", `${model}.onnx`), {
    executionProviders: ["cpu"],
  });
  const out = await session.run({ image: new ort.Tensor("uint8", crops, [n, SIZE, SIZE, 3]) });
  await session.release();
  return Object.fromEntries(OUTPUTS.map((k) => [k, { dims: out[k].dims, data: out[k].data as Float32Array }])) as Reference;
}

/** Row `i` of every reference output. */
function referenceRow(ref: Reference, i: number) {
  return Object.fromEntries(
    OUTPUTS.map((k) => {
      const rowSize = ref[k].dims.slice(1).reduce((a, b) => a * b, 1);
      return [k, ref[k].data.subarray(i * rowSize, (i + 1) * rowSize)];
    }),
  ) as Record<(typeof OUTPUTS)[number], Float32Array>;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  expect(worst).toBeLessThanOrEqual(1e-5);
}

async function infer(
  runner: RunnerProcess,
  crops: Uint8Array,
  n: number,
  opts: { binary?: boolean; outputs?: string[]; model?: string; size?: number; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; decoded?: DecodedInferResponse; problem?: Record<string, unknown> }> {
  const size = opts.size ?? SIZE;
  const req = encodeInferRequest(opts.model ?? MODEL, crops, [n, size, size, 3], { binary: opts.binary, outputs: opts.outputs });
  const res = await fetch(runner.url + req.path, { method: "POST", body: req.body, headers: { ...req.headers, ...auth, ...opts.headers } });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status === 200) return { status: 200, headers: res.headers, decoded: decodeInferResponse(bytes, res.headers) };
  return { status: res.status, headers: res.headers, problem: JSON.parse(new TextDecoder().decode(bytes)) };
}

async function postRaw(runner: RunnerProcess, body: BodyInit, headers: Record<string, string> = {}, model = MODEL) {
  const res = await fetch(`${runner.url}/v2/models/${model}/infer`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...auth, ...headers },
    // Needed by undici when the body is a stream.
    ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function metrics(runner: RunnerProcess): Promise<string> {
  const res = await fetch(`${runner.url}/metrics`, { headers: auth });
  expect(res.status).toBe(200);
  return res.text();
}

function expectProblem(r: { status: number; headers: Headers; text: string }, status: number) {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toContain("application/problem+json");
  const body = JSON.parse(r.text);
  expect(body).toMatchObject({ status, type: "about:blank" });
  expect(typeof body.detail).toBe("string");
  expect(r.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
  return body as { detail: string };
}

describe("runner (default config)", () => {
  let runner: RunnerProcess;
  let crops: Uint8Array;
  let reference: Reference;
  const N = 24;

  beforeAll(async () => {
    [runner, crops] = await Promise.all([
      startRunnerProcess({
        RUNNER_SECRET: SECRET,
        RUNNER_MODELS: "ThinAgeNet,ThinAttNet",
        RUNNER_MAX_BODY_BYTES: String(1_000_000),
      }),
      loadFaceCrops(N, 0, SIZE),
    ]);
    reference = await referenceRun(MODEL, crops, N);
  }, 240_000);
  afterAll(async () => {
    await runner?.stop();
  });

  it("is live and ready without auth, and reports the execution provider it runs on", async () => {
    expect((await fetch(`${runner.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${runner.url}/v2/health/ready`)).status).toBe(200);
    const res = await fetch(`${runner.url}/v2/models/${MODEL}`, { headers: auth });
    expect(res.status).toBe(200);
    const meta = (await res.json()) as { parameters: { execution_provider: string } };
    const card = await readCard(MODEL);
    expect(meta).toMatchObject({
      name: MODEL,
      versions: [card.version],
      platform: "onnxruntime_onnx",
      inputs: [{ name: "image", datatype: "UINT8", shape: [-1, SIZE, SIZE, 3] }],
      outputs: [
        { name: "probs", datatype: "FP32", shape: [-1, card.labels.k] },
        { name: "value", datatype: "FP32", shape: [-1] },
        { name: "scoremap", datatype: "FP32", shape: [-1, ...reference.scoremap.dims.slice(1)] },
      ],
    });
    expect(["cuda", "webgpu", "cpu"]).toContain(meta.parameters.execution_provider);
    const loaded = runner.records().find((r) => r.msg === "model loaded" && r.model === MODEL);
    expect(loaded?.provider).toBe(meta.parameters.execution_provider);
  });

  it("answers a batch of real face crops exactly as a direct onnxruntime-node call does", SLOW, async () => {
    const r = await infer(runner, crops, N, { binary: true });
    expect(r.status).toBe(200);
    const out = r.decoded!;
    expect(out.modelName).toBe(MODEL);
    for (const k of OUTPUTS) {
      expect(out.outputs[k].shape).toEqual([...reference[k].dims]);
      expect(out.outputs[k].datatype).toBe("FP32");
      expectClose(out.outputs[k].data as Float32Array, reference[k].data);
    }
    // The second model is served too, with its own label count and input size (its card's).
    const size = (await readCard("ThinAttNet")).input.size;
    const att = await infer(runner, await loadFaceCrops(2, 0, size), 2, { model: "ThinAttNet", outputs: ["probs"], size });
    expect(att.status).toBe(200);
    expect(att.decoded!.outputs.probs.shape).toEqual([2, 91]);
    expect(Object.keys(att.decoded!.outputs)).toEqual(["probs"]);
  });

  it("gives the same numbers in JSON and in binary encoding", async () => {
    const n = 3;
    const sub = crops.subarray(0, n * CROP);
    const json = await infer(runner, sub, n, { binary: false });
    const binary = await infer(runner, sub, n, { binary: true });
    expect(json.headers.get("content-type")).toBe("application/json");
    expect(json.headers.get(INFERENCE_HEADER_CONTENT_LENGTH)).toBeNull();
    expect(binary.headers.get("content-type")).toBe("application/octet-stream");
    expect(Number(binary.headers.get(INFERENCE_HEADER_CONTENT_LENGTH))).toBeGreaterThan(0);
    for (const k of OUTPUTS) {
      expect(json.decoded!.outputs[k].shape).toEqual(binary.decoded!.outputs[k].shape);
      expect(Array.from(json.decoded!.outputs[k].data as Float32Array)).toEqual(
        Array.from(binary.decoded!.outputs[k].data as Float32Array),
      );
      const got = binary.decoded!.outputs[k].data as Float32Array;
      expectClose(got, reference[k].data.subarray(0, got.length)); // the first n rows of the reference batch
    }
    // A hand-written Triton-style JSON request (nested data, per-output binary flag) works too.
    const nested = Array.from({ length: SIZE }, (_, y) =>
      Array.from({ length: SIZE }, (_, x) => Array.from(sub.subarray((y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3))),
    );
    const body = JSON.stringify({
      id: "req-1",
      inputs: [{ name: "image", datatype: "UINT8", shape: [1, SIZE, SIZE, 3], data: [nested] }],
      outputs: [{ name: "value" }],
    });
    const res = await postRaw(runner, body);
    expect(res.status).toBe(200);
    const parsed = JSON.parse(res.text);
    expect(parsed).toMatchObject({ model_name: MODEL, id: "req-1", outputs: [{ name: "value", datatype: "FP32", shape: [1] }] });
    expect(Math.fround(parsed.outputs[0].data[0])).toBe(json.decoded!.outputs.value.data[0]);
  });

  it("batches concurrent requests and hands each caller its own rows", SLOW, async () => {
    const before = await metrics(runner);
    const count = 16;
    const results = await Promise.all(Array.from({ length: count }, (_, i) => infer(runner, crops.subarray(i * CROP, (i + 1) * CROP), 1)));
    for (const [i, r] of results.entries()) {
      expect(r.status).toBe(200);
      const row = referenceRow(reference, i);
      for (const k of OUTPUTS) expectClose(r.decoded!.outputs[k].data as Float32Array, row[k]);
    }
    const after = await metrics(runner);
    const labels = { model: MODEL };
    const runs = metricValue(after, "runner_batch_size_count", labels) - metricValue(before, "runner_batch_size_count", labels);
    const rows = metricValue(after, "runner_batch_size_sum", labels) - metricValue(before, "runner_batch_size_sum", labels);
    const single =
      metricValue(after, "runner_batch_size_bucket", { ...labels, le: "1" }) -
      metricValue(before, "runner_batch_size_bucket", { ...labels, le: "1" });
    expect(rows).toBe(count);
    expect(runs).toBeLessThan(count); // fewer runs than requests: some ran together
    expect(single).toBeLessThan(runs); // at least one run had batch size > 1
    expect(metricValue(after, "runner_queue_depth", labels)).toBe(0);
    expect(metricValue(after, "runner_faces_total", labels)).toBeGreaterThanOrEqual(N + count);
  });

  it("refuses a missing or wrong bearer secret with 401", async () => {
    const req = encodeInferRequest(MODEL, crops.subarray(0, CROP), [1, SIZE, SIZE, 3]);
    for (const authorization of [undefined, "Bearer wrong-secret-0123456789abcd", `Bearer ${SECRET}x`, `Basic ${SECRET}`, SECRET]) {
      const headers: Record<string, string> = { ...req.headers };
      if (authorization) headers.authorization = authorization;
      const res = await fetch(runner.url + req.path, { method: "POST", body: req.body, headers });
      const r = { status: res.status, headers: res.headers, text: await res.text() };
      expectProblem(r, 401);
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect((await fetch(`${runner.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${runner.url}/v2/models/${MODEL}`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
  });

  it("answers malformed tensors with 400 problem+json", async () => {
    const image = (extra: Record<string, unknown>) =>
      JSON.stringify({ inputs: [{ name: "image", datatype: "UINT8", shape: [1, SIZE, SIZE, 3], data: Array(CROP).fill(7), ...extra }] });
    const cases: [string, BodyInit, Record<string, string>?][] = [
      ["not JSON", "{inputs:"],
      ["no inputs", JSON.stringify({ inputs: [] })],
      ["wrong channel count", image({ shape: [1, SIZE, SIZE, 4], data: Array(SIZE * SIZE * 4).fill(1) })],
      ["wrong crop size", image({ shape: [1, 32, 32, 3], data: Array(32 * 32 * 3).fill(1) })],
      ["too few values", image({ data: [1, 2, 3] })],
      ["value out of uint8 range", image({ data: Array(CROP).fill(300) })],
      ["non-integer value", image({ data: Array(CROP).fill(1.5) })],
      ["wrong datatype", image({ datatype: "FP32" })],
      ["unknown datatype", image({ datatype: "COMPLEX128" })],
      ["wrong input name", image({ name: "pixels" })],
      ["unknown output", JSON.stringify({ ...JSON.parse(image({})), outputs: [{ name: "logits" }] })],
      ["header length beyond the body", image({}), { [INFERENCE_HEADER_CONTENT_LENGTH]: "99999999" }],
      ["header length not a number", image({}), { [INFERENCE_HEADER_CONTENT_LENGTH]: "12abc" }],
    ];
    const tooMany = encodeInferRequest(MODEL, new Uint8Array(33 * CROP), [33, SIZE, SIZE, 3]);
    cases.push(["more crops than the max batch", tooMany.body, tooMany.headers]);
    // Binary payload shorter than binary_data_size.
    const header = new TextEncoder().encode(
      JSON.stringify({ inputs: [{ name: "image", datatype: "UINT8", shape: [1, SIZE, SIZE, 3], parameters: { binary_data_size: CROP } }] }),
    );
    const truncated = new Uint8Array(header.byteLength + 100);
    truncated.set(header);
    cases.push(["truncated binary tensor", truncated, { [INFERENCE_HEADER_CONTENT_LENGTH]: String(header.byteLength) }]);
    // Binary bytes that no tensor claims.
    const extra = new Uint8Array(header.byteLength + CROP + 5);
    extra.set(header);
    cases.push(["unclaimed binary bytes", extra, { [INFERENCE_HEADER_CONTENT_LENGTH]: String(header.byteLength) }]);

    for (const [what, body, headers] of cases) {
      const r = await postRaw(runner, body, headers ?? {});
      expect(r.status, what).toBe(400);
      expectProblem(r, 400);
    }
    const unknown = await postRaw(runner, image({}), {}, "NoSuchNet");
    expectProblem(unknown, 404);
  });

  it("refuses an oversized body with 413, with or without Content-Length", async () => {
    const big = new Uint8Array(1_200_000);
    expectProblem(await postRaw(runner, big, { "content-type": "application/octet-stream" }), 413);
    const chunks = 12;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(100_000));
        if (--streamed === 0) controller.close();
      },
    });
    let streamed = chunks;
    expectProblem(await postRaw(runner, stream, { "content-type": "application/octet-stream" }), 413);
    const m = await metrics(runner);
    expect(metricValue(m, "runner_errors_total", { reason: "too_large" })).toBe(2);
    // Far beyond the limit: refused from Content-Length alone, before the upload is read.
    const early = await new Promise<{ status: number; connection?: string }>((resolve, reject) => {
      const req = http.request(`${runner.url}/v2/models/${MODEL}/infer`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/octet-stream", "content-length": String(50_000_000) },
      });
      req.on("response", (res) => {
        res.resume();
        resolve({ status: res.statusCode!, connection: res.headers.connection });
        req.destroy();
      });
      req.on("error", reject);
      req.write(new Uint8Array(1024));
    });
    expect(early).toEqual({ status: 413, connection: "close" });
  });

  it("logs structured JSON without image data", () => {
    const records = runner.records();
    const requests = records.filter((r) => r.msg === "request");
    expect(requests.length).toBeGreaterThan(20);
    expect(requests.some((r) => r.status === 401) && requests.some((r) => r.status === 413)).toBe(true);
    for (const r of records) {
      for (const v of Object.values(r)) {
        expect(typeof v === "object" && v !== null).toBe(false);
        if (typeof v === "string") expect(v.length).toBeLessThan(1000);
      }
    }
    expect(runner.lines.join("\n")).not.toMatch(/(\d{1,3},){50}/); // no pixel arrays
  });
});

describe("runner (tiny queue)", () => {
  let runner: RunnerProcess;
  let crops: Uint8Array;
  let reference: Reference;

  beforeAll(async () => {
    [runner, crops] = await Promise.all([
      startRunnerProcess({
        RUNNER_SECRET: SECRET,
        RUNNER_MODELS: MODEL,
        RUNNER_PROVIDERS: "cpu",
        RUNNER_MAX_QUEUE: "2",
        RUNNER_RETRY_AFTER_S: "3",
        RUNNER_ACCESS_LOG: "0",
      }),
      loadFaceCrops(32, 0, SIZE),
    ]);
    reference = await referenceRun(MODEL, crops, 32);
  }, 240_000);
  afterAll(async () => {
    if (runner && runner.child.exitCode === null) await runner.stop("SIGKILL");
  });

  it("answers 503 with Retry-After when the queue is full, and recovers", SLOW, async () => {
    // Full batches (32 crops) run one at a time; with 2 queue slots, a burst of 12 overflows.
    const results = await Promise.all(Array.from({ length: 12 }, () => infer(runner, crops, 32)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 503);
    expect(ok.length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(ok.length + refused.length).toBe(12);
    for (const r of refused) {
      expect(r.headers.get("retry-after")).toBe("3");
      expect(r.headers.get("content-type")).toContain("application/problem+json");
      expect(r.problem).toMatchObject({ status: 503, detail: expect.stringContaining("queue is full") });
    }
    for (const r of ok) expectClose(r.decoded!.outputs.value.data as Float32Array, reference.value.data);
    const m = await metrics(runner);
    expect(metricValue(m, "runner_errors_total", { reason: "queue_full" })).toBe(refused.length);
    expect((await infer(runner, crops.subarray(0, CROP), 1)).status).toBe(200);
  });

  it("on SIGTERM finishes queued and in-flight work, then exits 0", SLOW, async () => {
    // Two full batches: one runs, one waits. (A third could arrive while the first still sits in
    // the 2-slot queue during the batching window and be refused, which is not what this tests.)
    const pending = Array.from({ length: 2 }, () => infer(runner, crops, 32));
    // Wait until work is actually queued behind a running batch.
    const deadline = Date.now() + 60_000;
    while (metricValue(await metrics(runner), "runner_queue_depth", { model: MODEL }) < 1) {
      if (Date.now() > deadline) throw new Error("requests never queued");
    }
    runner.child.kill("SIGTERM");
    const results = await Promise.all(pending);
    for (const r of results) {
      expect(r.status).toBe(200);
      expectClose(r.decoded!.outputs.value.data as Float32Array, reference.value.data);
    }
    expect(await runner.exited).toBe(0);
    const stopping = runner.records().find((r) => r.msg === "shutting down");
    expect(stopping?.queued).toBeGreaterThanOrEqual(1);
    expect(runner.records().some((r) => r.msg === "shut down")).toBe(true);
    await expect(fetch(`${runner.url}/v2/health/live`)).rejects.toThrow();
  });
});

describe("runner start-up checks", () => {
  it("refuses to start without RUNNER_SECRET unless RUNNER_INSECURE=1", SLOW, async () => {
    await expect(startRunnerProcess({ RUNNER_MODELS: "TinyAgeNet" })).rejects.toThrow(/exited with 2[\s\S]*RUNNER_SECRET/);
    await expect(startRunnerProcess({ RUNNER_MODELS: "TinyAgeNet", RUNNER_SECRET: "short" })).rejects.toThrow(/exited with 2/);
    const insecure = await startRunnerProcess({
      RUNNER_MODELS: "TinyAgeNet",
      RUNNER_INSECURE: "1",
      RUNNER_PROVIDERS: "cpu",
      RUNNER_ACCESS_LOG: "0",
    });
    try {
      expect((await fetch(`${insecure.url}/v2/models/TinyAgeNet`)).status).toBe(200);
    } finally {
      expect(await insecure.stop()).toBe(0);
    }
  });

  it("refuses weights whose sha256 does not match the card", SLOW, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "runner-models-"));
    try {
      const card = JSON.parse(await readFile(path.join(REPO_ROOT, "models/TinyAgeNet.json"), "utf8"));
      await copyFile(path.join(REPO_ROOT, "models", card.file), path.join(dir, card.file));
      await writeFile(path.join(dir, "TinyAgeNet.json"), JSON.stringify({ ...card, sha256: "0".repeat(64) }));
      await expect(startRunnerProcess({ MODELS: dir, RUNNER_SECRET: SECRET, RUNNER_PROVIDERS: "cpu" })).rejects.toThrow(
        /exited with 1[\s\S]*sha256/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
