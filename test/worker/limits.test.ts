/**
 * Exact rate limits: one Durable Object per caller counts every request, so N pass and N+1 do
 * not, also when they all arrive at once; the IETF RateLimit headers are on every metered
 * response; counts survive the object being torn down.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { RateLimiter } from "../../src/limits/rate-limiter";
import { awayFromMinuteEdge, bytesOf, call, createKey, fixtures, freshIp } from "./support/http";

const photo = bytesOf(fixtures.photoJpeg);

/** A request that is charged but costs the worker nothing (refused by validation after metering). */
const cheap = (options: Parameters<typeof call>[1] = {}) => call("/v1/analyze?tier=invalid", { body: photo, ...options });

function remaining(res: Response, window: "minute" | "day"): number {
  const m = new RegExp(`"${window}";r=(\\d+);t=(\\d+)`).exec(res.headers.get("RateLimit") ?? "");
  if (!m) throw new Error(`no ${window} in RateLimit: ${res.headers.get("RateLimit")}`);
  return Number(m[1]);
}

describe("free plan per anonymous IP", () => {
  it("10 per minute pass, the 11th is refused; remaining counts down exactly", async () => {
    await awayFromMinuteEdge();
    const ip = freshIp();
    for (let i = 1; i <= 10; i++) {
      const res = await cheap({ ip });
      expect(res.status).toBe(400);
      expect(res.headers.get("RateLimit-Policy")).toBe('"minute";q=10;w=60, "day";q=500;w=86400');
      expect(remaining(res, "minute")).toBe(10 - i);
      expect(remaining(res, "day")).toBe(500 - i);
    }
    const refused = await cheap({ ip });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(remaining(refused, "minute")).toBe(0);
    // A refusal is not charged: the day window still shows 490 left.
    expect(remaining(refused, "day")).toBe(490);
    // Another IP is another caller.
    expect((await cheap({ ip: freshIp() })).status).toBe(400);
  });

  it("IPv6 clients are limited per /64", async () => {
    await awayFromMinuteEdge();
    for (let i = 0; i < 10; i++) expect((await cheap({ ip: `2001:db8:77:1::${i + 1}` })).status).toBe(400);
    expect((await cheap({ ip: "2001:db8:77:1:ffff::9" })).status).toBe(429);
    expect((await cheap({ ip: "2001:db8:77:2::1" })).status).toBe(400);
  });

  it("GET /v1/models reports the budget without spending it", async () => {
    const ip = freshIp();
    const a = await call("/v1/models", { ip });
    const b = await call("/v1/models", { ip });
    expect(a.status).toBe(200);
    expect(remaining(a, "minute")).toBe(10);
    expect(remaining(b, "minute")).toBe(10);
  });
});

describe("per key", () => {
  it("50 concurrent requests on a 20/minute key: exactly 20 admitted, 30 refused", async () => {
    await awayFromMinuteEdge();
    const { key } = await createKey("burst");
    const results = await Promise.all(Array.from({ length: 50 }, () => cheap({ key })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 400)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
    // Every admitted request saw a distinct remaining count: 19, 18, ..., 0.
    const left = results.filter((r) => r.status === 400).map((r) => remaining(r, "minute"));
    expect(left.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("50 concurrent real analyses on a 20/minute key: exactly 20 analysed", async () => {
    await awayFromMinuteEdge(20);
    const { key } = await createKey("burst");
    const results = await Promise.all(Array.from({ length: 50 }, () => call("/v1/analyze?tier=fast&attributes=age", { body: photo, key })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30);
  });

  it("a daily quota: 7 pass, the 8th waits until UTC midnight", async () => {
    const { key } = await createKey("daily");
    for (let i = 0; i < 7; i++) expect((await cheap({ key })).status).toBe(400);
    const refused = await cheap({ key });
    expect(refused.status).toBe(429);
    const midnight = Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);
    expect(Math.abs(Number(refused.headers.get("Retry-After")) - midnight)).toBeLessThanOrEqual(2);
    expect((await refused.json()) as { detail: string }).toMatchObject({ detail: expect.stringContaining("day") });
  });

  it("keys do not share budgets, and a key is not limited by its IP's anonymous budget", async () => {
    await awayFromMinuteEdge();
    const ip = freshIp();
    for (let i = 0; i < 10; i++) await cheap({ ip });
    expect((await cheap({ ip })).status).toBe(429);
    const { key } = await createKey("pro");
    const res = await cheap({ ip, key });
    expect(res.status).toBe(400);
    expect(remaining(res, "minute")).toBe(599);
  });

  it("counts survive the Durable Object being torn down (state is stored, not in memory)", async () => {
    const { key, id } = await createKey("daily");
    for (let i = 0; i < 4; i++) await cheap({ key });
    await abortAllDurableObjects();
    const res = await cheap({ key });
    expect(remaining(res, "day")).toBe(2);
    const stub = (env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>).getByName(`key:${id}`);
    const stored = await runInDurableObject(stub, async (_instance: RateLimiter, state) => [...(await state.storage.list()).keys()]);
    expect(stored).toEqual(["windows"]);
  });
});

describe("batches", () => {
  it("a batch is charged one request per image, and refused whole when that passes the limit", async () => {
    await awayFromMinuteEdge(20);
    const ip = freshIp();
    const form = (n: number) => {
      const f = new FormData();
      for (let i = 0; i < n; i++) f.append("image", new Blob([bytesOf(fixtures.noFacePng)]), `${i}.png`);
      return f;
    };
    const first = await call("/v1/analyze/batch?tier=fast", { body: form(4), ip });
    expect(first.status).toBe(200);
    expect(remaining(first, "minute")).toBe(6);
    const second = await call("/v1/analyze/batch?tier=fast", { body: form(4), ip });
    expect(second.status).toBe(200);
    expect(remaining(second, "minute")).toBe(2);
    const third = await call("/v1/analyze/batch?tier=fast", { body: form(4), ip });
    expect(third.status).toBe(429);
    expect(third.headers.get("Retry-After")).toBeTruthy();
  });
});

describe("overall anonymous budget per location", () => {
  it("caps all anonymous callers of a location together, whatever their addresses; keys and free routes are not affected", async () => {
    await awayFromMinuteEdge();
    const colo = `T${Date.now() % 1_000_000}`;
    const env = { ANONYMOUS_BUDGET: { per_minute: 5, per_day: 1000 } };
    // Five /64s of one /48: five callers with budgets of their own, one location budget.
    for (let i = 1; i <= 5; i++) expect((await cheap({ ip: `2001:db8:48:${i}::1`, colo, env })).status).toBe(400);
    const refused = await cheap({ ip: "2001:db8:48:6::1", colo, env });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("RateLimit-Policy")).toContain('"anonymous-minute";q=5;w=60');
    expect(((await refused.json()) as { detail: string }).detail).toContain("anonymous");
    // The refused caller's own budget is far from used up: the location's is what ran out.
    expect(remaining(refused, "minute")).toBe(9);
    // Another location, a key, and a free route are not limited by it.
    expect((await cheap({ ip: freshIp(), colo: `${colo}-b`, env })).status).toBe(400);
    const { key } = await createKey("pro");
    expect((await cheap({ key, colo, env })).status).toBe(400);
    expect((await call("/v1/models", { ip: freshIp(), colo, env })).status).toBe(200);
  });
});
