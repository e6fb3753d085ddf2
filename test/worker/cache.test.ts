/**
 * The answer cache: keyed by the image's SHA-256, the models' versions and the options that
 * change the answer; a hit is served without decoding the image or running any model.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import ortWasm from "../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import { createApp } from "../../src/api/app";
import type { InferenceBackend } from "../../src/backends/session";
import { createWebBackend } from "../../src/backends/web";
import { bundledCatalog, type ModelCatalog } from "../../src/models/catalog";
import { analyze, bytesOf, fixtures } from "./support/http";

interface Answer {
  image: { sha256: string };
  cached: boolean;
  route: string;
  models: Record<string, { name: string; version: string }>;
  faces: unknown[];
}

async function json(res: Response): Promise<Answer> {
  expect(res.status).toBe(200);
  return (await res.json()) as Answer;
}

/** A second photo no other test file uses, so its cache entries start out absent. */
const photo = bytesOf(fixtures.photoPng);

async function viaApp(app: ReturnType<typeof createApp>, query: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.fetch(
    new Request(`http://api.test/v1/analyze?${query}`, { method: "POST", body: photo, headers: { "CF-Connecting-IP": "192.0.2.200" } }),
    { ...env, PLANS: { free: { per_minute: 1000, per_day: 10_000, max_batch: 4 } } } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

describe("answer cache", () => {
  it("the same image and options: a miss, then a hit with the same answer", async () => {
    const first = await json(await analyze(photo, "tier=fast&max_faces=7"));
    const second = await json(await analyze(photo, "tier=fast&max_faces=7"));
    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    const { cached: _a, timing_ms: _b, ...a } = first as Answer & { timing_ms: number };
    const { cached: _c, timing_ms: _d, ...b } = second as Answer & { timing_ms: number };
    expect(b).toEqual(a);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", photo));
    expect(first.image.sha256).toBe([...digest].map((x) => x.toString(16).padStart(2, "0")).join(""));
  });

  it.each([
    "tier=fast&max_faces=7&distribution=true",
    "tier=fast&max_faces=6",
    "tier=fast&max_faces=7&attributes=age",
    "tier=fast&max_faces=7&explain=true",
    "tier=standard&max_faces=7",
  ])("a different option misses: %s", async (query) => {
    await json(await analyze(photo, "tier=fast&max_faces=7"));
    const other = await json(await analyze(photo, query));
    expect(other.cached).toBe(false);
    expect((await json(await analyze(photo, query))).cached).toBe(true);
  });

  it("the same bytes under another name and type still hit (the key is the content)", async () => {
    await json(await analyze(photo, "tier=fast&max_faces=8"));
    const form = new FormData();
    form.append("image", new Blob([photo], { type: "application/octet-stream" }), "renamed.bin");
    const res = await (await import("./support/http")).call("/v1/analyze?tier=fast&max_faces=8", { body: form });
    expect((await json(res)).cached).toBe(true);
  });

  it("a different model version misses", async () => {
    const backend = createWebBackend({ wasmModule: ortWasm });
    const current = createApp({ catalog: bundledCatalog, backend });
    await json(await viaApp(current, "tier=fast&max_faces=9"));
    expect((await json(await viaApp(current, "tier=fast&max_faces=9"))).cached).toBe(true);
    // The same weights under a new version (as after a re-export): earlier answers must not be served.
    const bumped: ModelCatalog = {
      ...bundledCatalog,
      edge: {
        ...bundledCatalog.edge,
        age: { ...bundledCatalog.edge.age, card: { ...bundledCatalog.edge.age.card, version: "next-version" } },
      },
    };
    const next = createApp({ catalog: bumped, backend });
    const answer = await json(await viaApp(next, "tier=fast&max_faces=9"));
    expect(answer.cached).toBe(false);
    expect(answer.models.age.version).toBe("next-version");
    expect((await json(await viaApp(next, "tier=fast&max_faces=9"))).cached).toBe(true);
  });

  it("a hit needs neither the decoder nor any model: it answers while the models cannot load", async () => {
    const working = createApp({ catalog: bundledCatalog, backend: createWebBackend({ wasmModule: ortWasm }) });
    await json(await viaApp(working, "tier=fast&max_faces=10"));
    const broken: InferenceBackend = {
      name: "unavailable",
      createSession: () => Promise.reject(new Error("models unavailable")),
    };
    const modelsDown = createApp({ catalog: bundledCatalog, backend: broken });
    const hit = await json(await viaApp(modelsDown, "tier=fast&max_faces=10"));
    expect(hit.cached).toBe(true);
    // The same app on a miss has to run the models, and cannot.
    expect((await viaApp(modelsDown, "tier=fast&max_faces=11")).status).toBe(500);
  });
});
