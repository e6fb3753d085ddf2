/**
 * Every error status of the contract, produced by real inputs through the real worker: RFC 9457
 * problem documents, no stack traces, no echo of what was sent.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { KeyStore } from "../../src/keys/key-store";
import { analyze, bytesOf, call, createKey, faultRunnerUrl, fixtures, setFault, type Problem } from "./support/http";

async function expectProblem(res: Response, status: number, type: string, mustNotContain: string[] = []): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const text = await res.text();
  const problem = JSON.parse(text) as Problem;
  expect(problem).toMatchObject({ status, type: `/docs#problem-${type}` });
  expect(typeof problem.title).toBe("string");
  // No stack traces or source locations.
  expect(text).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+|\.js:\d+|Error:/);
  for (const s of mustNotContain) expect(text).not.toContain(s);
  return problem;
}

const photo = bytesOf(fixtures.photoJpeg);

describe("400 bad parameters", () => {
  it.each([
    ["tier=turbo-echo-me", "tier"],
    ["max_faces=0", "max_faces"],
    ["max_faces=21", "max_faces"],
    ["max_faces=two-echo-me", "max_faces"],
    ["attributes=height-echo-me", "attributes"],
    ["distribution=maybe-echo-me", "distribution"],
    ["explain=yes-echo-me", "explain"],
  ])("%s", async (query, name) => {
    const res = await analyze(photo, query);
    const problem = await expectProblem(res, 400, "bad-request", ["echo-me"]);
    expect(problem.errors?.map((e) => e.name)).toContain(name);
    // Metered like any request: the limit headers are there.
    expect(res.headers.get("RateLimit")).toMatch(/"minute";r=\d+;t=\d+/);
  });

  it("an empty body", async () => {
    await expectProblem(await call("/v1/analyze", { method: "POST" }), 400, "bad-request");
  });

  it("a multipart form without an image field, or with two", async () => {
    const none = new FormData();
    none.append("picture", new Blob([photo], { type: "image/jpeg" }), "a.jpg");
    await expectProblem(await call("/v1/analyze", { body: none }), 400, "bad-request");
    const two = new FormData();
    two.append("image", new Blob([photo]), "a.jpg");
    two.append("image", new Blob([photo]), "b.jpg");
    await expectProblem(await call("/v1/analyze", { body: two }), 400, "bad-request");
  });

  it("a batch over the plan's max_batch, or not multipart", async () => {
    const form = new FormData();
    for (let i = 0; i < 5; i++) form.append("image", new Blob([photo]), `${i}.jpg`); // free: max_batch 4
    await expectProblem(await call("/v1/analyze/batch", { body: form }), 400, "bad-request");
    await expectProblem(await call("/v1/analyze/batch", { body: photo }), 400, "bad-request");
  });
});

describe("401 bad key", () => {
  it("an unknown well-formed key, a malformed key, a non-Bearer scheme", async () => {
    const unknown = "fa_" + "A".repeat(43);
    for (const authorization of [`Bearer ${unknown}`, "Bearer not-a-key-echo-me", "Basic dXNlcjpwYXNz", "Bearer"]) {
      const res = await call("/v1/analyze", { body: photo, headers: { Authorization: authorization } });
      await expectProblem(res, 401, "unauthorized", ["echo-me", unknown, "dXNlcjpwYXNz"]);
      expect(res.headers.get("WWW-Authenticate")).toContain("Bearer");
      expect(res.headers.get("RateLimit-Policy")).toContain('"minute";q=10;w=60');
    }
  });

  it("a revoked key stops working; a valid key works", async () => {
    const { key, id } = await createKey("pro");
    const ok = await call("/v1/models", { key });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("RateLimit-Policy")).toContain('"minute";q=600;w=60');
    await new KeyStore(env.KEYS).revoke(id);
    // KV reads are cached for up to 60 s in production; locally a delete is visible at once.
    await expectProblem(await call("/v1/models", { key }), 401, "unauthorized", [key]);
  });
});

describe("413 too large", () => {
  const overCap = () => {
    const big = new Uint8Array(env.MAX_IMAGE_BYTES + 1);
    big.set(photo.subarray(0, 1024));
    return big;
  };

  it("a raw body over MAX_IMAGE_BYTES", async () => {
    await expectProblem(await analyze(overCap()), 413, "payload-too-large");
  });

  it("a streamed body without Content-Length is cut off at the cap", async () => {
    const big = overCap();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 65536) controller.enqueue(big.subarray(i, i + 65536));
        controller.close();
      },
    });
    const res = await call("/v1/analyze", { body: stream as unknown as BodyInit, method: "POST" });
    await expectProblem(res, 413, "payload-too-large");
  });

  it("a multipart image over the cap", async () => {
    const form = new FormData();
    form.append("image", new Blob([overCap()]), "big.jpg");
    await expectProblem(await call("/v1/analyze", { body: form }), 413, "payload-too-large");
  });
});

describe("415 not an image", () => {
  it("a PDF sent as image/jpeg, raw and in a form", async () => {
    const pdf = bytesOf(fixtures.notImage);
    await expectProblem(await analyze(pdf, "", { headers: { "Content-Type": "image/jpeg" } }), 415, "unsupported-media-type", ["PDF"]);
    const form = new FormData();
    form.append("image", new Blob([pdf], { type: "image/png" }), "x.png");
    await expectProblem(await call("/v1/analyze", { body: form }), 415, "unsupported-media-type");
  });
});

describe("422 undecodable or over the pixel budget", () => {
  it("a truncated JPEG", async () => {
    await expectProblem(await analyze(bytesOf(fixtures.truncatedJpeg)), 422, "undecodable-image");
  });

  it("a PNG whose header claims 30000x30000", async () => {
    const problem = await expectProblem(await analyze(bytesOf(fixtures.bombPng)), 422, "pixel-budget");
    expect(problem.detail).toContain(String(env.MAX_PIXELS));
  });
});

describe("429 over the limit", () => {
  it("the 11th request of a minute from one anonymous IP", async () => {
    const ip = "203.0.113.77";
    for (let i = 0; i < 10; i++) expect((await call("/v1/analyze?tier=bad", { body: photo, ip })).status).toBe(400);
    const res = await call("/v1/analyze", { body: photo, ip });
    await expectProblem(res, 429, "rate-limited");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
  });
});

describe("503 accurate without a runner", () => {
  it("runner failing: accurate answers 503 with Retry-After instead of degrading", async () => {
    await setFault("errors-503", "error");
    const res = await analyze(photo, "tier=accurate", { env: { RUNNER_URL: faultRunnerUrl("errors-503") } });
    await expectProblem(res, 503, "runner-unavailable");
    expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("no runner configured at all", async () => {
    await expectProblem(await analyze(photo, "tier=accurate", { env: { RUNNER_URL: "" } }), 503, "runner-unavailable");
  });
});

describe("404", () => {
  it("an unknown path is a problem document too", async () => {
    await expectProblem(await call("/v2/nothing-here"), 404, "not-found");
  });
});
