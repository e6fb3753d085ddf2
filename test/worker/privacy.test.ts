/**
 * Images and keys never reach logs or storage: every log line the worker writes during real
 * requests (successes, errors, batches, cache hits) is captured and searched for the image's
 * bytes (raw, base64, hex), its hash and the API key; KV, the rate-limit objects and the answer
 * cache are read back and searched the same way.
 */
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import ortWasm from "../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import { createApp } from "../../src/api/app";
import { createWebBackend } from "../../src/backends/web";
import type { RateLimiter } from "../../src/limits/rate-limiter";
import { bundledCatalog } from "../../src/models/catalog";
import { analyze, bytesOf, call, createKey, faultRunnerUrl, fixtures, setFault } from "./support/http";

const photo = bytesOf(fixtures.groupJpeg);
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

/** Fragments that would show the image (or a key) leaked, in every encoding a log could use. */
async function secretsOf(image: Uint8Array, key: string): Promise<string[]> {
  const b64 = btoa(latin1(image));
  const middle = image.subarray(image.length >> 1, (image.length >> 1) + 48);
  const sha = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", image as Uint8Array<ArrayBuffer>)));
  return [
    b64.slice(0, 64),
    b64.slice(b64.length >> 1, (b64.length >> 1) + 64),
    btoa(latin1(middle)).slice(4, 40),
    hex(middle),
    latin1(middle),
    [...middle.subarray(0, 16)].join(","),
    sha,
    key,
    key.slice(3, 20),
  ];
}

function expectClean(haystack: string, secrets: string[]): void {
  for (const s of secrets) expect(haystack.includes(s), `leaked: ${s.slice(0, 24)}...`).toBe(false);
}

describe("no image bytes or keys in logs or storage", () => {
  const lines: string[] = [];
  beforeEach(() => {
    lines.length = 0;
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        lines.push(args.map((a) => (typeof a === "string" ? a : (JSON.stringify(a) ?? String(a)))).join(" "));
      });
    }
  });
  afterEach(() => vi.restoreAllMocks());

  it("logs", async () => {
    const { key } = await createKey("pro", "privacy");
    const secrets = await secretsOf(photo, key);
    const truncated = photo.subarray(0, photo.length >> 1);
    const form = new FormData();
    form.append("image", new Blob([photo]), "a.jpg");
    form.append("image", new Blob([truncated]), "b.jpg");
    await setFault("privacy", "garbage");

    const statuses = [
      (await analyze(photo, "tier=fast&explain=true&distribution=true", { key })).status,
      (await analyze(photo, "tier=fast&explain=true&distribution=true", { key })).status, // cache hit
      (await analyze(photo, "tier=standard", { key })).status,
      (await analyze(photo, "tier=standard&attributes=age", { key, env: { RUNNER_URL: faultRunnerUrl("privacy") } })).status,
      (await analyze(truncated, "", { key })).status,
      (await analyze(photo, "tier=nope", { key })).status,
      (await call("/v1/analyze/batch?tier=fast", { body: form, key })).status,
      (await call("/v1/analyze", { body: photo, headers: { Authorization: `Bearer ${key}x` } })).status,
    ];
    expect(statuses).toEqual([200, 200, 200, 200, 422, 400, 200, 401]);
    // The spy works: one structured line per request at least.
    expect(lines.filter((l) => l.includes('"path":"/v1/analyze')).length).toBeGreaterThanOrEqual(statuses.length);
    expectClean(lines.join("\n"), secrets);
  });

  it("KV, rate-limit objects and the answer cache", async () => {
    const { key, id } = await createKey("pro", "storage");
    const secrets = await secretsOf(photo, key);
    const stored: string[] = [];
    const real = await caches.open("privacy-test");
    const recording = {
      match: (req: Request) => real.match(req),
      delete: (req: Request) => real.delete(req),
      put: async (req: Request, res: Response) => {
        stored.push(req.url, await res.clone().text());
        return real.put(req, res);
      },
    } as unknown as Cache;
    const app = createApp({ catalog: bundledCatalog, backend: createWebBackend({ wasmModule: ortWasm }), cache: () => recording });
    for (const query of ["tier=fast&explain=true&distribution=true", "tier=standard"]) {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`http://api.test/v1/analyze?${query}`, { method: "POST", body: photo, headers: { Authorization: `Bearer ${key}` } }),
        env,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      expect(res.status).toBe(200);
    }
    expect(stored.length).toBe(4); // two answers, each a key URL and a JSON body
    expectClean(stored.join("\n").replace(/"sha256":"[0-9a-f]{64}"/g, ""), secrets);
    // The cache key is a hash over the image hash and options, not the image hash itself.
    expect(stored[0]).not.toContain(secrets[6]);

    const kv = await env.KEYS.list();
    for (const { name } of kv.keys) {
      expect(name).toMatch(/^key:[0-9a-f]{64}$/);
      const value = (await env.KEYS.get(name))!;
      expect(Object.keys(JSON.parse(value)).sort()).toEqual(["created", "name", "plan"]);
      expectClean(name + value, secrets);
    }
    expect(kv.keys.map((k) => k.name)).toContain(`key:${id}`);

    const stub = (env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>).getByName(`key:${id}`);
    const state = await runInDurableObject(stub, async (_i: RateLimiter, s: DurableObjectState) =>
      Object.fromEntries(await s.storage.list()),
    );
    expect(Object.keys(state)).toEqual(["windows"]);
    expectClean(JSON.stringify(state), secrets);
  });
});
