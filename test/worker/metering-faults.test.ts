/**
 * The key store (KV) or a rate limiter (Durable Object) failing: metered routes fail closed with
 * a 503 problem and `Retry-After` (never a bare 500), free routes keep answering. The failing
 * bindings are the only fakes here: each wraps the real binding and throws where a real outage
 * would (the errors are the runtime's own wording).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { analyze, bytesOf, call, createKey, fixtures, type Problem } from "./support/http";

const photo = bytesOf(fixtures.photoJpeg);

/** A RATE_LIMITER whose objects are unreachable after `healthyCalls` consume() calls. */
function failingLimiter(healthyCalls = 0): Env["RATE_LIMITER"] {
  let calls = 0;
  const real = env.RATE_LIMITER;
  return {
    getByName(name: string) {
      const stub = real.getByName(name);
      return {
        consume: (...args: Parameters<typeof stub.consume>) => {
          calls += 1;
          if (calls > healthyCalls) return Promise.reject(new Error("Durable Object is overloaded. Requests queued for too long."));
          return stub.consume(...args);
        },
      };
    },
  } as unknown as Env["RATE_LIMITER"];
}

const failingKv = {
  get: () => Promise.reject(new Error("KV GET failed: 503 Service Unavailable")),
} as unknown as KVNamespace;

async function expect503(res: Response): Promise<void> {
  expect(res.status).toBe(503);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const problem = (await res.json()) as Problem;
  expect(problem).toMatchObject({ status: 503, type: "/docs#problem-metering-unavailable" });
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
}

describe("limiter or key store down", () => {
  it("a limiter fault: 503 + Retry-After on /v1/analyze, 200 on /v1/models, /healthz and /docs", async () => {
    const down = { RATE_LIMITER: failingLimiter() };
    const logged = vi.spyOn(console, "log");
    logged.mockClear();
    await expect503(await analyze(photo, "tier=fast", { env: down }));
    // The log says why, by the error's name only.
    expect(logged.mock.calls.map((c) => String(c[0])).find((l) => l.includes('"status":503'))).toContain('"error":"metering: Error"');
    logged.mockRestore();

    const models = await call("/v1/models", { env: down });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { models: unknown[] }).models.length).toBe(4);
    // Served unmetered: no budget to report.
    expect(models.headers.get("RateLimit")).toBeNull();
    expect((await call("/healthz", { env: down })).status).toBe(200);
    expect((await call("/docs", { env: down })).status).toBe(200);
    expect((await call("/openapi.json", { env: down })).status).toBe(200);
    // The same request with the limiter back: metered and answered.
    const ok = await analyze(photo, "tier=fast");
    expect(ok.status).toBe(200);
    expect(ok.headers.get("RateLimit")).toMatch(/"minute";r=\d+/);
  });

  it("a key store fault: a keyed analyze is 503 (the key cannot be checked), a keyed /v1/models is 200", async () => {
    const { key } = await createKey("pro");
    const down = { KEYS: failingKv };
    await expect503(await analyze(photo, "tier=fast", { key, env: down }));
    expect((await call("/v1/models", { key, env: down })).status).toBe(200);
    // Anonymous calls do not need the key store.
    expect((await analyze(photo, "tier=fast&attributes=age", { env: down })).status).toBe(200);
  });

  it("a limiter fault while charging a batch's extra images: 503, no image analysed", async () => {
    const { key } = await createKey("pro");
    const form = new FormData();
    for (let i = 0; i < 3; i++) form.append("image", new Blob([photo]), `${i}.jpg`);
    await expect503(await call("/v1/analyze/batch?tier=fast", { body: form, key, env: { RATE_LIMITER: failingLimiter(1) } }));
  });

  it("the overall anonymous budget's object failing fails closed too", async () => {
    // The caller's own object answers (first consume); the location's budget object does not.
    await expect503(await analyze(photo, "tier=fast", { env: { RATE_LIMITER: failingLimiter(1) } }));
  });
});
