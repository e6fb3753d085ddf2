/**
 * Property-based fuzzing of the public API in the real workerd runtime: random bytes, truncated,
 * bit-flipped and spliced real JPEG/PNG/WebP photos, forged header dimensions, zero-size bodies,
 * wrong content types, hand-built multipart abuse and parameter abuse. The property is the same
 * for every case: the answer is a 2xx JSON document or a 4xx RFC 9457 problem document (never a
 * 5xx, a crash or a hang), and no problem echoes what was sent.
 *
 * The seeds are the real MEBeauty photo that test/worker/global-setup.ts provides: its WebP as
 * is, and its face region cut out and re-encoded small (JPEG and PNG), so a case that still
 * decodes runs detection and the models quickly. Bounded for CI: FUZZ_RUNS cases per property
 * (default 60 to 100, about 400 in all); FUZZ_SEED replays a run. The count is printed.
 */
import fc from "fast-check";
import { encode as encodePng } from "fast-png";
import { encode as encodeJpeg } from "jpeg-js";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { env } from "cloudflare:workers";
import { decodeImage, resize, type RgbImage } from "../../../src/vision";
import { bytesOf, call, createKey, fixtures } from "../support/http";

const reference = inject("nodeReference");
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
const runs = (n: number) => (process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : n);
/** A request that takes longer than this counts as a hang. */
const HANG_MS = 45_000;
/** A marker that must never come back in an answer (no echo of the input). */
const ECHO = "zq-echo-7731";

const tally = { cases: 0, statuses: new Map<number, number>() };
let key = "";

/** Anonymous callers from a range no other test file uses (its own rate-limit objects). */
let ipCounter = 0;
const nextIp = () => {
  ipCounter += 1;
  return `100.64.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
};

interface Sent {
  path: string;
  body?: Uint8Array;
  headers?: Record<string, string>;
  method?: string;
}

/** Sends one case and checks the property; returns the status. */
async function check(req: Sent, allow503 = false): Promise<number> {
  tally.cases += 1;
  const headers: Record<string, string> = { Authorization: `Bearer ${key}`, ...req.headers };
  // An empty Authorization stands for "no header": an anonymous caller.
  if (headers.Authorization === "") delete headers.Authorization;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: no answer in ${HANG_MS} ms for ${req.method ?? "POST"} ${req.path}`)), HANG_MS);
  });
  let res: Response;
  let text: string;
  try {
    res = await Promise.race([call(req.path, { method: req.method ?? "POST", body: req.body, headers, ip: nextIp() }), hang]);
    text = await Promise.race([res.text(), hang]);
  } finally {
    clearTimeout(timer);
  }
  tally.statuses.set(res.status, (tally.statuses.get(res.status) ?? 0) + 1);
  const type = res.headers.get("Content-Type") ?? "";
  const context = `${req.method ?? "POST"} ${req.path.slice(0, 200)} -> ${res.status} ${text.slice(0, 300)}`;
  const runnerDown = allow503 && res.status === 503 && text.includes("runner-unavailable");
  expect(res.status < 500 || runnerDown, context).toBe(true);
  if (req.method === "HEAD") {
    // No body to read; the status and type still say what a GET would get.
    if (res.status >= 400) expect(type, context).toBe("application/problem+json");
  } else if (res.status >= 400) {
    expect(type, context).toBe("application/problem+json");
    const problem = JSON.parse(text) as { status: number; type: string; title: string };
    expect(problem.status, context).toBe(res.status);
    expect(problem.type, context).toMatch(/^\/docs#problem-[a-z-]+$/);
    expect(text, context).not.toContain(ECHO);
    expect(text, context).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+|\.js:\d+/);
  } else if (res.status !== 204) {
    expect(type, context).toContain("application/json");
    JSON.parse(text);
  }
  return res.status;
}

/** The face region of the real photo, re-encoded at `size` px: a small seed that still has a face. */
function faceCrop(image: RgbImage, size: number): RgbImage {
  const box = reference.faces[0].box;
  const side = Math.min(image.width, image.height, Math.round(Math.max(box.width, box.height) * 1.8));
  const x0 = Math.max(0, Math.min(image.width - side, Math.round(box.x + box.width / 2 - side / 2)));
  const y0 = Math.max(0, Math.min(image.height - side, Math.round(box.y + box.height / 2 - side / 2)));
  const crop = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++)
    crop.set(image.data.subarray(((y0 + y) * image.width + x0) * 3, ((y0 + y) * image.width + x0 + side) * 3), y * side * 3);
  return resize({ width: side, height: side, data: crop }, size, size);
}

function rgba(image: RgbImage): Uint8Array {
  const out = new Uint8Array(image.width * image.height * 4);
  for (let i = 0, j = 0; i < image.data.length; i += 3, j += 4) {
    out[j] = image.data[i];
    out[j + 1] = image.data[i + 1];
    out[j + 2] = image.data[i + 2];
    out[j + 3] = 255;
  }
  return out;
}

/** jpeg-js's encoder returns a Node Buffer; workerd (no nodejs_compat here) gets a Uint8Array. */
function jpegOf(image: RgbImage, quality: number): Uint8Array {
  const g = globalThis as { Buffer?: unknown };
  const had = "Buffer" in g;
  if (!had) g.Buffer = { from: (a: ArrayLike<number>) => Uint8Array.from(a) };
  try {
    return new Uint8Array(encodeJpeg({ width: image.width, height: image.height, data: rgba(image) }, quality).data);
  } finally {
    if (!had) delete g.Buffer;
  }
}

const seeds: Record<"jpeg" | "png" | "webp", Uint8Array> = {
  jpeg: new Uint8Array(),
  png: new Uint8Array(),
  webp: bytesOf(fixtures.photoWebp),
};

beforeAll(async () => {
  key = (await createKey("pro", "fuzz")).key;
  const photo = await decodeImage(bytesOf(fixtures.photoJpeg));
  const small = faceCrop(photo, 128);
  seeds.jpeg = jpegOf(small, 85);
  expect(new TextDecoder().decode(seeds.webp.subarray(12, 16)), "a simple lossy WebP (VP8 frame header at 26)").toBe("VP8 ");
  seeds.png = encodePng({ width: small.width, height: small.height, data: small.data, channels: 3, depth: 8 });
  // The seeds are real, decodable photos with a face: otherwise the mutations test little.
  for (const [name, bytes] of Object.entries(seeds)) {
    const res = await call("/v1/analyze?tier=fast&attributes=age", { body: bytes, key });
    expect(res.status, name).toBe(200);
    expect(((await res.json()) as { faces: unknown[] }).faces.length, `${name} seed has a face`).toBeGreaterThanOrEqual(1);
  }
});

afterAll(() => {
  const statuses = [...tally.statuses.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s}:${n}`)
    .join(" ");
  console.log(`[hardening/fuzz] ${tally.cases} cases (seed ${SEED}), statuses ${statuses}`);
});

const params = { seed: SEED, endOnFailure: true, verbose: 1 } as const;
const tierQuery = fc.constantFrom(
  "tier=fast&attributes=age",
  "tier=fast",
  "tier=standard&attributes=age",
  "tier=fast&explain=true&max_faces=1",
);
const contentType = fc.constantFrom(
  undefined,
  "image/jpeg",
  "image/png",
  "image/webp",
  "application/octet-stream",
  "text/plain; charset=utf-8",
  "application/json",
  "multipart/form-data",
  "multipart/form-data; boundary=",
  "image/gif",
  `image/${ECHO}`,
);

/** Mutations of a real encoded image. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    op: fc.constant("flip" as const),
    bits: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 7 })), {
      minLength: 1,
      maxLength: 24,
    }),
  }),
  fc.record({
    op: fc.constant("headerFlip" as const),
    bits: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 8 }),
  }),
  fc.record({
    op: fc.constant("splice" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    junk: fc.uint8Array({ minLength: 1, maxLength: 512 }),
  }),
  fc.record({
    op: fc.constant("overwrite" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    junk: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(seed: Uint8Array, m: Mutation): Uint8Array {
  const b = new Uint8Array(seed);
  switch (m.op) {
    case "truncate":
      return b.subarray(0, Math.floor(m.at * b.length));
    case "flip":
      for (const [p, bit] of m.bits) b[Math.floor(p * b.length)] ^= 1 << bit;
      return b;
    case "headerFlip":
      for (const [p, bit] of m.bits) if (p < b.length) b[p] ^= 1 << bit;
      return b;
    case "splice": {
      const at = Math.floor(m.at * b.length);
      const out = new Uint8Array(b.length + m.junk.length);
      out.set(b.subarray(0, at));
      out.set(m.junk, at);
      out.set(b.subarray(at), at + m.junk.length);
      return out;
    }
    case "overwrite": {
      const at = Math.floor(m.at * b.length);
      b.set(m.junk.subarray(0, b.length - at), at);
      return b;
    }
  }
}

describe("fuzzing the worker with bad input: only 2xx answers or 4xx problem documents", () => {
  it("random bytes, bare or behind a real magic number, under any content type", async () => {
    const magic = fc.constantFrom(
      new Uint8Array(0),
      new Uint8Array([0xff, 0xd8, 0xff]),
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      new TextEncoder().encode("RIFF\x10\x00\x00\x00WEBPVP8 "),
      new TextEncoder().encode("GIF89a"),
    );
    await fc.assert(
      fc.asyncProperty(magic, fc.uint8Array({ maxLength: 2048 }), contentType, tierQuery, async (head, tail, ct, query) => {
        const body = new Uint8Array(head.length + tail.length);
        body.set(head);
        body.set(tail, head.length);
        await check({ path: `/v1/analyze?${query}`, body, headers: ct ? { "Content-Type": ct } : {} });
      }),
      { ...params, numRuns: runs(80) },
    );
  });

  it("truncated, bit-flipped, spliced and overwritten real JPEG, PNG and WebP photos", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("jpeg", "png", "jpeg", "png", "webp"), mutation, tierQuery, async (kind, m, query) => {
        const status = await check({
          path: `/v1/analyze?${query}`,
          body: mutate(seeds[kind as keyof typeof seeds], m),
          headers: { "Content-Type": `image/${kind}` },
        });
        expect([200, 400, 415, 422]).toContain(status);
      }),
      { ...params, numRuns: runs(100) },
    );
  });

  it("forged header dimensions (huge, zero, one): the pixel budget holds before any decoding", async () => {
    const dims = fc.oneof(
      fc.constantFrom(0, 1, 65535, 0x3fff + 1, 0xffffff, 0x7fffffff, 0xffffffff),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("png", "jpeg", "webp"), dims, dims, async (kind, w, h) => {
        const b = new Uint8Array(seeds[kind as keyof typeof seeds]);
        const view = new DataView(b.buffer);
        let width = w;
        let height = h;
        if (kind === "png") {
          view.setUint32(16, w);
          view.setUint32(20, h);
        } else if (kind === "jpeg") {
          // The frame header (SOF0) of jpeg-js's output: FFC0, length, precision, height, width.
          const sof = b.findIndex((v, i) => v === 0xff && b[i + 1] === 0xc0);
          width = w & 0xffff;
          height = h & 0xffff;
          view.setUint16(sof + 5, height);
          view.setUint16(sof + 7, width);
        } else {
          // A lossy WebP: VP8 frame header's 14-bit width and height.
          width = w & 0x3fff;
          height = h & 0x3fff;
          view.setUint16(26, width, true);
          view.setUint16(28, height, true);
        }
        const started = Date.now();
        const status = await check({ path: "/v1/analyze?tier=fast&attributes=age", body: b });
        if (width * height > env.MAX_PIXELS) {
          expect(status).toBe(422);
          // Refused from the header: no pixel buffer, no decoding time.
          expect(Date.now() - started).toBeLessThan(10_000);
        } else {
          expect([200, 415, 422]).toContain(status);
        }
        if (width === 0 || height === 0) expect(status).toBe(422);
      }),
      { ...params, numRuns: runs(60) },
    );
  });

  it("zero-size bodies and empty multipart forms", async () => {
    for (const path of ["/v1/analyze", "/v1/analyze/batch", "/v1/analyze?tier=accurate"]) {
      for (const ct of [undefined, "image/jpeg", "multipart/form-data; boundary=x"]) {
        const status = await check({ path, body: new Uint8Array(0), headers: ct ? { "Content-Type": ct } : {} });
        expect(status).toBe(400);
      }
    }
  });

  it("multipart abuse: bad boundaries, stray fields, duplicate and odd parts, batches of garbage", async () => {
    const enc = new TextEncoder();
    const part = fc.record({
      name: fc.constantFrom("image", "image", "Image", "img", "", `image"; x="${ECHO}`, "image\r\nX-Evil: 1"),
      filename: fc.option(fc.constantFrom("a.jpg", "", "../../etc/passwd", "x".repeat(2000), `${ECHO}.png`), { nil: undefined }),
      type: fc.option(fc.constantFrom("image/jpeg", "text/plain", "image/png; charset=binary", ""), { nil: undefined }),
      body: fc.oneof(
        fc.constantFrom("jpeg", "png", "webp").map((k) => seeds[k as keyof typeof seeds]),
        fc.tuple(fc.constantFrom("jpeg", "png"), mutation).map(([k, m]) => mutate(seeds[k as keyof typeof seeds], m)),
        fc.uint8Array({ maxLength: 512 }),
      ),
    });
    const form = fc.record({
      parts: fc.array(part, { minLength: 0, maxLength: 6 }),
      boundary: fc.constantFrom("b0undary", "x", "a".repeat(70), "----WebKitFormBoundary7MA4YWxkTrZu0gW"),
      declared: fc.constantFrom("same", "none", "other", "quoted"),
      ending: fc.constantFrom("proper", "missing", "garbage"),
      path: fc.constantFrom("/v1/analyze?tier=fast&attributes=age", "/v1/analyze/batch?tier=fast&attributes=age"),
    });
    await fc.assert(
      fc.asyncProperty(form, async (f) => {
        const chunks: Uint8Array[] = [];
        for (const p of f.parts) {
          let head = `--${f.boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
          if (p.filename !== undefined) head += `; filename="${p.filename}"`;
          head += "\r\n";
          if (p.type !== undefined) head += `Content-Type: ${p.type}\r\n`;
          chunks.push(enc.encode(head + "\r\n"), p.body, enc.encode("\r\n"));
        }
        chunks.push(enc.encode(f.ending === "proper" ? `--${f.boundary}--\r\n` : f.ending === "garbage" ? `--${f.boundary}-garbage` : ""));
        const body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let o = 0;
        for (const c of chunks) {
          body.set(c, o);
          o += c.length;
        }
        const ct =
          f.declared === "same"
            ? `multipart/form-data; boundary=${f.boundary}`
            : f.declared === "quoted"
              ? `multipart/form-data; boundary="${f.boundary}"`
              : f.declared === "other"
                ? "multipart/form-data; boundary=not-the-one"
                : "multipart/form-data";
        await check({ path: f.path, body, headers: { "Content-Type": ct } });
      }),
      { ...params, numRuns: runs(70) },
    );
  });

  it("parameter, method and header abuse", async () => {
    const value = fc.oneof(
      fc.constantFrom(
        "fast",
        "standard",
        "accurate",
        "true",
        "false",
        "1",
        "0",
        "20",
        "21",
        "-1",
        "1e309",
        "NaN",
        "0x10",
        " 5",
        "5 ",
        "age,beauty",
        "age,,age",
        "",
        ECHO,
        "%00",
        "%ZZ",
        "💥",
        "a".repeat(5000),
      ),
      fc.string({ maxLength: 40 }),
    );
    const name = fc.oneof(
      fc.constantFrom("tier", "attributes", "max_faces", "distribution", "explain", "__proto__", "constructor", ECHO),
      fc.string({ maxLength: 12 }),
    );
    const query = fc.array(fc.tuple(name, value), { maxLength: 6 });
    const auth = fc.constantFrom(
      undefined,
      undefined,
      "valid",
      "Bearer",
      "Bearer ",
      `Bearer ${ECHO}`,
      `Bearer fa_${"A".repeat(43)}`,
      "Basic Zm9vOmJhcg==",
      `bearer  valid`,
      "Bearer valid valid",
    );
    const method = fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
    const path = fc.constantFrom(
      "/v1/analyze",
      "/v1/analyze/batch",
      "/v1/models",
      "/v1/analyze/",
      "/v1//analyze",
      "/v1/analyze/../models",
      `/v1/${ECHO}`,
      "/healthz",
      "/openapi.json",
    );
    await fc.assert(
      fc.asyncProperty(method, path, query, auth, fc.boolean(), async (m, p, q, a, withBody) => {
        const search = q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
        const headers: Record<string, string> = { "Content-Type": "image/png" };
        if (a !== undefined) headers.Authorization = a.replace("valid", key);
        else headers.Authorization = "";
        const hasBody = withBody && m !== "GET" && m !== "HEAD";
        const status = await check(
          { path: `${p}${search ? `?${search}` : ""}`, method: m, body: hasBody ? bytesOf(fixtures.noFacePng) : undefined, headers },
          // A valid tier=accurate call is allowed the documented 503 when the runner cannot answer.
          true,
        );
        expect(status).not.toBe(0);
      }),
      { ...params, numRuns: runs(90) },
    );
  });
});
