/**
 * The hostile corpus (test/fixtures/hostile/, scripts/hostile-corpus.ts) against the real worker
 * in workerd: every file alone (raw body and multipart) and all of them in batches, then a normal
 * photo to the same isolate. Each hostile file gets its manifest's answer (a 4xx problem document,
 * or 200 where the hostile part is one the decoder ignores), quickly, and the isolate is still
 * healthy afterwards: the normal photo gets 200 with its face.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { bytesOf, call, createKey, fixtures } from "./support/http";

const hostile = inject("hostile");
let key = "";

beforeAll(async () => {
  key = (await createKey("pro", "hostile")).key;
});

async function expectAnswer(res: Response, expected: "4xx" | "200", context: string): Promise<void> {
  const text = await res.text();
  if (expected === "200") {
    expect(res.status, `${context}: ${text.slice(0, 200)}`).toBe(200);
    return;
  }
  expect(res.status, `${context}: ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, context).toBeLessThan(500);
  expect(res.headers.get("Content-Type"), context).toBe("application/problem+json");
  const problem = JSON.parse(text) as { status: number; type: string; detail?: string };
  expect(problem.status, context).toBe(res.status);
  // Our words only: nothing of the decoder's message (libjpeg codes, sizes read from the file).
  expect(text, context).not.toMatch(/libjpeg|fflate|\.ts:\d+|\bat \w+ \(/);
}

function form(files: { file: string; base64: string }[]): FormData {
  const body = new FormData();
  for (const f of files) body.append("image", new File([bytesOf(f.base64)], f.file));
  return body;
}

describe("hostile images in workerd: refused (or harmlessly ignored) without harming the isolate", () => {
  it("has the whole corpus", () => {
    expect(hostile.length).toBeGreaterThanOrEqual(15);
  });

  for (const entry of hostile) {
    it(`${entry.file}: ${entry.what} -> ${entry.expect}, raw and multipart`, async () => {
      const started = Date.now();
      await expectAnswer(await call("/v1/analyze?tier=fast", { body: bytesOf(entry.base64), key }), entry.expect, `${entry.file} raw`);
      await expectAnswer(await call("/v1/analyze?tier=fast", { body: form([entry]), key }), entry.expect, `${entry.file} multipart`);
      expect(Date.now() - started, entry.file).toBeLessThan(20_000);
    });
  }

  it("the corpus in batches: each item its own answer; then a normal photo still gets 200", async () => {
    for (let i = 0; i < hostile.length; i += 16) {
      const part = hostile.slice(i, i + 16);
      const res = await call("/v1/analyze/batch?tier=fast", { body: form(part), key });
      expect(res.status).toBe(200);
      const { results } = (await res.json()) as { results: { index: number; status: number; problem?: { status: number } }[] };
      expect(results.map((r) => r.index)).toEqual(part.map((_, k) => k));
      for (const [k, r] of results.entries()) {
        if (part[k].expect === "200") expect(r.status, part[k].file).toBe(200);
        else {
          expect(r.status, part[k].file).toBeGreaterThanOrEqual(400);
          expect(r.status, part[k].file).toBeLessThan(500);
          expect(r.problem?.status, part[k].file).toBe(r.status);
        }
      }
    }
    const res = await call("/v1/analyze?tier=fast", { body: bytesOf(fixtures.photoJpeg), key });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { faces: unknown[] }).faces.length).toBeGreaterThanOrEqual(1);
  });
});
