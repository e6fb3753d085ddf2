/** The documented surface: OpenAPI, docs page, models, health, CORS, multipart, batch, explain, distribution. */
import { describe, expect, it } from "vitest";
import { analyze, bytesOf, call, createKey, fixtures } from "./support/http";

const photo = bytesOf(fixtures.photoJpeg);

describe("discovery", () => {
  it("/openapi.json is generated from the route schemas", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(["/healthz", "/v1/analyze", "/v1/analyze/batch", "/v1/models"]);
    expect(doc.paths["/v1/analyze"].post.parameters!.map((p) => p.name).sort()).toEqual([
      "attributes",
      "distribution",
      "explain",
      "max_faces",
      "tier",
    ]);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Analysis", "Face", "Problem", "BatchAnalysis", "ModelCard"]),
    );
    expect(doc.components.securitySchemes).toHaveProperty("bearer");
  });

  it("/docs renders the same document, with every problem type", async () => {
    const res = await call("/docs");
    expect(res.headers.get("Content-Type")).toContain("text/html");
    const html = await res.text();
    for (const s of [
      "POST /v1/analyze",
      "POST /v1/analyze/batch",
      "GET /v1/models",
      'id="problem-rate-limited"',
      'id="problem-pixel-budget"',
    ])
      expect(html).toContain(s);
  });

  it("/v1/models lists the cards in service", async () => {
    const { models, detector } = (await (await call("/v1/models")).json()) as {
      detector: { name: string };
      models: {
        name: string;
        served_by: string;
        task: string;
        params: number;
        labels: { k: number };
        tiers: Record<string, { flip: boolean }>;
        ensemble?: { checkpoint: string; width: number }[];
      }[];
    };
    expect(detector.name).toBe("BlazeFace");
    expect(models.map((m) => `${m.name}:${m.served_by}`).sort()).toEqual([
      "ThinAgeNet:runner",
      "ThinAttNet:runner",
      "TinyAgeNet:edge",
      "TinyAttNet:edge",
    ]);
    // Each says what its tiers run: the edge models one pass for fast, the runner's standard and accurate.
    for (const m of models) {
      expect(Object.keys(m.tiers).sort()).toEqual(m.served_by === "edge" ? ["fast"] : ["accurate", "standard"]);
      if (m.served_by === "runner") expect(m.tiers.accurate.flip).toBe(true);
    }
    // Each runner model is a 0.5-wide network and its edge sibling's weights answering as one; it says
    // so, and its params count both (a 0.5-wide network alone has 3.7 M).
    const byName = Object.fromEntries(models.map((m) => [m.name, m]));
    for (const [thin, tiny] of [
      ["ThinAgeNet", "TinyAgeNet"],
      ["ThinAttNet", "TinyAttNet"],
    ]) {
      expect(byName[thin].ensemble?.map((e) => e.width)).toEqual([0.5, 0.25]);
      expect(byName[thin].params).toBeGreaterThan(3_000_000 + byName[tiny].params * 0.9);
      expect(byName[tiny].ensemble).toBeUndefined();
    }
  });

  it("/healthz is not metered", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("RateLimit")).toBeNull();
    expect(await res.json()).toMatchObject({ status: "ok", runner: { configured: true } });
  });

  it("CORS: any origin may call with a bearer key and read the limit headers", async () => {
    const res = await call("/v1/analyze", {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    const get = await call("/v1/models", { headers: { Origin: "https://app.example" } });
    expect(get.headers.get("Access-Control-Expose-Headers")).toContain("RateLimit");
  });
});

interface Face {
  box: { width: number; height: number };
  landmarks: [number, number][];
  age: { value: number; interval90: [number, number]; distribution?: { labels: number[]; probs: number[] } };
  beauty: { value: number; scale: [number, number] };
  scoremap?: { age?: string; beauty?: string };
}

describe("analyze", () => {
  it("multipart gives the same answer as a raw body", async () => {
    const raw = (await (await analyze(photo, "tier=fast&max_faces=4")).json()) as { faces: Face[] };
    const form = new FormData();
    form.append("image", new Blob([photo], { type: "image/jpeg" }), "face.jpg");
    const res = await call("/v1/analyze?tier=fast&max_faces=4", { body: form });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { faces: Face[] }).faces).toEqual(raw.faces);
  });

  it("an image without faces is a 200 with no faces", async () => {
    const res = await analyze(bytesOf(fixtures.noFacePng), "tier=fast");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ faces: [], image: { width: 320, height: 240 } });
  });

  it("several faces, largest first, capped by max_faces", async () => {
    const all = (await (await analyze(bytesOf(fixtures.groupJpeg), "tier=fast&attributes=age")).json()) as { faces: Face[] };
    expect(all.faces.length).toBe(3);
    const two = (await (await analyze(bytesOf(fixtures.groupJpeg), "tier=fast&attributes=age&max_faces=2")).json()) as { faces: Face[] };
    expect(two.faces).toHaveLength(2);
    const areas = all.faces.map((f) => f.box.width * f.box.height);
    expect(areas).toEqual([...areas].sort((a, b) => b - a));
  });

  it("distribution=true and explain=true", async () => {
    const res = await analyze(photo, "tier=fast&distribution=true&explain=true");
    const { faces } = (await res.json()) as { faces: Face[] };
    const face = faces[0];
    expect(face.landmarks).toHaveLength(6);
    expect(face.beauty.scale).toEqual([1, 10]);
    const d = face.age.distribution!;
    expect(d.labels).toHaveLength(101);
    expect(d.labels[0]).toBe(0);
    expect(d.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(face.age.interval90[0]).toBeLessThanOrEqual(face.age.interval90[1]);
    for (const url of [face.scoremap!.age!, face.scoremap!.beauty!]) {
      expect(url).toMatch(/^data:image\/png;base64,/);
      const png = Uint8Array.from(atob(url.split(",")[1]), (c) => c.charCodeAt(0));
      expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]);
      const view = new DataView(png.buffer);
      expect([view.getUint32(16), view.getUint32(20)]).toEqual([64, 64]);
    }
    const plain = (await (await analyze(photo, "tier=fast")).json()) as { faces: Face[] };
    expect(plain.faces[0].scoremap).toBeUndefined();
    expect(plain.faces[0].age.distribution).toBeUndefined();
  });

  it("a batch answers per image, in order, each with its own status", async () => {
    const { key } = await createKey("pro");
    const form = new FormData();
    for (const [name, b64] of [
      ["a.jpg", fixtures.photoJpeg],
      ["b.pdf", fixtures.notImage],
      ["c.jpg", fixtures.truncatedJpeg],
      ["d.png", fixtures.noFacePng],
    ]) {
      form.append("image", new Blob([bytesOf(b64)]), name);
    }
    const res = await call("/v1/analyze/batch?tier=fast&attributes=age", { body: form, key });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as {
      results: { index: number; status: number; analysis?: { faces: unknown[] }; problem?: { type: string } }[];
    };
    expect(results.map((r) => [r.index, r.status])).toEqual([
      [0, 200],
      [1, 415],
      [2, 422],
      [3, 200],
    ]);
    expect(results[0].analysis!.faces).toHaveLength(1);
    expect(results[1].problem!.type).toBe("/docs#problem-unsupported-media-type");
    expect(results[3].analysis!.faces).toHaveLength(0);
  });
});
