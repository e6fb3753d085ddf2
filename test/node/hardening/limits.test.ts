/**
 * Limits on the real local worker (`wrangler dev` with its state in a folder): exact admission
 * when many requests arrive at once over HTTP, and a daily quota that survives the worker being
 * stopped and started again on the same state (Durable Object storage, not memory).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../../../scripts/lib/stack";
import { createKey } from "../../support/keys";
import { photos } from "../../support/photos";

const PLANS = JSON.stringify({
  free: { per_minute: 10, per_day: 500, max_batch: 4 },
  burst: { per_minute: 25, per_day: 10_000, max_batch: 4 },
  daily: { per_minute: 1_000, per_day: 7, max_batch: 4 },
});

let state: string;
let stack: Stack | undefined;
let burstKey: string;
let dailyKey: string;
const photo = photos(1)[0];

const start = () =>
  startStack({ port: 0, runnerPort: 0, persistTo: state, vars: { PLANS }, runnerEnv: { RUNNER_MODELS: "ThinAgeNet,ThinAttNet" } });

/** Charged, then refused by validation: costs the worker nothing but the count. */
async function cheap(key: string): Promise<Response> {
  const res = await fetch(`${stack!.url}/v1/analyze?tier=invalid`, {
    method: "POST",
    body: new Uint8Array(photo),
    headers: { authorization: `Bearer ${key}` },
  });
  await res.arrayBuffer();
  return res;
}

function remaining(res: Response, window: "minute" | "day"): number {
  const m = new RegExp(`"${window}";r=(\\d+)`).exec(res.headers.get("RateLimit") ?? "");
  if (!m) throw new Error(`no ${window} in RateLimit: ${res.headers.get("RateLimit")}`);
  return Number(m[1]);
}

beforeAll(async () => {
  state = mkdtempSync(path.join(tmpdir(), "hardening-limits-"));
  // Keys are made with the admin CLI in the worker's state folder, as an operator would.
  burstKey = createKey(state, "burst", "hardening", PLANS).key;
  dailyKey = createKey(state, "daily", "hardening", PLANS).key;
  stack = await start();
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(state, { recursive: true, force: true });
}, 60_000);

describe("limits on the real worker", () => {
  it("60 concurrent requests on a 25/minute key: exactly 25 admitted, each with its own remaining count", async () => {
    // Stay inside one UTC minute.
    const left = 60 - ((Date.now() / 1000) % 60);
    if (left < 20) await new Promise((r) => setTimeout(r, left * 1000 + 200));
    const results = await Promise.all(Array.from({ length: 60 }, () => cheap(burstKey)));
    const admitted = results.filter((r) => r.status === 400);
    expect(admitted).toHaveLength(25);
    expect(results.filter((r) => r.status === 429)).toHaveLength(35);
    expect(admitted.map((r) => remaining(r, "minute")).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  }, 120_000);

  it("a daily quota survives a restart of the worker on the same state", async () => {
    for (let i = 1; i <= 4; i++) expect(remaining(await cheap(dailyKey), "day")).toBe(7 - i);
    await stack!.stop();
    stack = await start();
    // A new workerd process: the counter comes from Durable Object storage on disk.
    const after = await cheap(dailyKey);
    expect(after.status).toBe(400);
    expect(remaining(after, "day")).toBe(2);
    expect((await cheap(dailyKey)).status).toBe(400);
    expect((await cheap(dailyKey)).status).toBe(400);
    const refused = await cheap(dailyKey);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(60);
  }, 300_000);
});
