/**
 * The typed client (src/client) against the real local stack: typed answers on each tier, the
 * cache, problem documents as typed errors, and retries that wait out the real rate limiter's
 * `Retry-After`. Ends by stopping the stack and checking nothing is left running.
 */
import type { z } from "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import type { analysisSchema, problemSchema } from "../../../src/api/schemas";
import { analyze, ApiError, FaceAgeClient, type Analysis, type RetryEvent } from "../../../src/client";
import { liveProcessesInGroup } from "../../../scripts/lib/processes";
import { startStack, type Stack } from "../../../scripts/lib/stack";
import { adultFacePhoto } from "../../support/photos";

let stack: Stack;
let photo: Uint8Array;

beforeAll(async () => {
  photo = (await adultFacePhoto()).bytes;
  stack = await startStack({ port: 0, runnerPort: 0 });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe("typed client against the local stack", () => {
  it("has the types of the API's zod schemas (compile-time) and rejects bad options before sending", async () => {
    expectTypeOf<Analysis>().toEqualTypeOf<z.output<typeof analysisSchema>>();
    expectTypeOf<ApiError["problem"]>().toEqualTypeOf<z.output<typeof problemSchema>>();
    expectTypeOf<Parameters<FaceAgeClient["analyze"]>[1]>().toMatchTypeOf<{ tier?: "fast" | "standard" | "accurate" } | undefined>();
    const client = new FaceAgeClient({ baseUrl: stack.url });
    // @ts-expect-error: not a tier in the schema
    const bad = () => client.analyze(photo, { tier: "turbo" });
    await expect(bad()).rejects.toMatchObject({ status: 400, attempts: 0 });
    await expect(client.analyze(photo, { max_faces: 21 })).rejects.toMatchObject({ status: 400, attempts: 0 });
  });

  it("analyzes a real photo on the fast tier: typed, consistent estimates from the edge", async () => {
    const a = await analyze(photo, { baseUrl: stack.url, tier: "fast", distribution: true, explain: true });
    expect(a.route).toBe("edge");
    expect(a.cached).toBe(false);
    expect(a.image.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a.faces.length).toBeGreaterThanOrEqual(1);
    const face = a.faces[0];
    expect(face.box.width).toBeGreaterThan(20);
    expect(face.box.x + face.box.width).toBeLessThanOrEqual(a.image.width + 1);
    const age = face.age!;
    const [lo, hi] = age.interval90;
    expect(lo).toBeLessThanOrEqual(age.value);
    expect(age.value).toBeLessThanOrEqual(hi);
    const { labels, probs } = age.distribution!;
    expect(labels.length).toBe(probs.length);
    expect(probs.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 3);
    expect(face.beauty!.value).toBeGreaterThanOrEqual(1);
    expect(face.beauty!.value).toBeLessThanOrEqual(10);
    expect(face.beauty!.scale).toEqual([1, 10]);
    expect(face.scoremap?.age).toMatch(/^data:image\/png;base64,/);
    expect(a.models.age?.name).toBe("TinyAgeNet");
  });

  it("gets the same answer from the cache the second time", async () => {
    const client = new FaceAgeClient({ baseUrl: stack.url });
    const first = await client.analyze(photo, { tier: "fast", attributes: ["age"] });
    const second = await client.analyze(photo, { tier: "fast", attributes: ["age"] });
    expect(second.cached).toBe(true);
    expect(second.image.sha256).toBe(first.image.sha256);
    expect(second.faces.map((f) => f.age?.value)).toEqual(first.faces.map((f) => f.age?.value));
    expect(second.faces[0].beauty).toBeUndefined();
  });

  it("uses the GPU runner's models on the standard tier", async () => {
    const a = await new FaceAgeClient({ baseUrl: stack.url }).analyze(photo, { tier: "standard", attributes: ["age"] });
    // On a busy CPU the runner can miss the deadline: then the worker's fallback answers.
    expect(["gpu", "edge-fallback"]).toContain(a.route);
    expect(a.models.age?.name).toBe(a.route === "gpu" ? "ThinAgeNet" : "TinyAgeNet");
  });

  it("surfaces problem+json answers as a typed ApiError", async () => {
    const client = new FaceAgeClient({ baseUrl: stack.url });
    const err = await client.analyze(new TextEncoder().encode("definitely not an image"), { tier: "fast" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const apiError = err as ApiError;
    expect(apiError.status).toBe(415);
    expect(apiError.problem).toMatchObject({
      status: 415,
      title: expect.any(String),
      type: expect.stringContaining("unsupported-media-type"),
    });
    expect(apiError.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(apiError.attempts).toBe(1);
  });

  it("waits out the real rate limiter's Retry-After, then succeeds", async () => {
    // Free-plan windows are UTC minutes: start well inside one, so the budget used up below is
    // still used up when the no-retry and impatient calls are made (a slow box can take seconds).
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 25_000) await new Promise((r) => setTimeout(r, left + 200));
    // Use up this minute's free-plan budget with cheap refused calls (each still counts).
    let refused: Response | undefined;
    for (let i = 0; i < 30 && !refused; i++) {
      const r = await fetch(`${stack.url}/v1/analyze?tier=fast`, { method: "POST", body: "x", headers: { "content-type": "image/jpeg" } });
      await r.arrayBuffer();
      if (r.status === 429) refused = r;
    }
    expect(refused, "the free plan never answered 429").toBeDefined();

    // Without retries the 429 surfaces at once, with the server's Retry-After.
    const noRetry = new FaceAgeClient({ baseUrl: stack.url, retry: { maxRetries: 0 } });
    const err = (await noRetry.analyze(photo, { tier: "fast" }).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(429);
    expect(err.problem.status).toBe(429);
    expect(err.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(err.retryAfterSeconds).toBeLessThanOrEqual(60);
    // A wait longer than the client's bound is not taken either.
    const impatient = new FaceAgeClient({ baseUrl: stack.url, retry: { maxRetries: 3, maxDelayMs: 100 } });
    await expect(impatient.analyze(photo, { tier: "fast" })).rejects.toMatchObject({ status: 429, attempts: 1 });

    // Free-plan windows are UTC minutes: the retry may only succeed once this one has ended.
    const windowEnd = Math.ceil(Date.now() / 60_000) * 60_000;
    const events: RetryEvent[] = [];
    const patient = new FaceAgeClient({ baseUrl: stack.url, retry: { maxRetries: 2, maxDelayMs: 61_000 }, onRetry: (e) => events.push(e) });
    const started = Date.now();
    const a = await patient.analyze(photo, { tier: "fast", attributes: ["age"] });
    expect(a.faces.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events[0]).toMatchObject({ attempt: 1, status: 429 });
    expect(events[0].delayMs).toBeGreaterThanOrEqual(events[0].retryAfterSeconds! * 1000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(events[0].retryAfterSeconds! * 1000);
    expect(Date.now()).toBeGreaterThanOrEqual(windowEnd);
  }, 150_000);

  it("stops both processes and leaves none behind", async () => {
    const groups = stack.processGroups();
    // Before: wrangler runs workerd (and esbuild) in its group, tsx runs the runner in another.
    expect(liveProcessesInGroup(groups.worker!).length).toBeGreaterThanOrEqual(3);
    expect(liveProcessesInGroup(groups.runner!).length).toBeGreaterThanOrEqual(1);
    await stack.stop();
    for (const [name, pgid] of Object.entries(groups)) {
      expect(pgid, name).toBeDefined();
      // wrangler -> workerd, esbuild; tsx -> node: every one of them has ended.
      expect(liveProcessesInGroup(pgid!), name).toEqual([]);
    }
    await expect(fetch(`${stack.url}/healthz`)).rejects.toThrow();
    await expect(fetch(`${stack.runnerUrl}/v2/health/ready`)).rejects.toThrow();
  }, 30_000);
});
