/**
 * The core runs in workerd: decode, BlazeFace, alignment and TinyAgeNet on onnxruntime-web (WASM)
 * inside the worker give the same faces and ages as the Node path (onnxruntime-node) on the same
 * real photo, computed in test/worker/global-setup.ts.
 */
import { describe, expect, inject, it } from "vitest";
import { analyze, bytesOf, fixtures } from "./support/http";

const reference = inject("nodeReference");

interface Answer {
  image: { width: number; height: number };
  route: string;
  faces: { box: { x: number; y: number; width: number; height: number }; age: { value: number; std: number } }[];
}

describe("the core in workerd", () => {
  it("gives the Node path's ages (± the runtimes' tolerance for the card) and boxes on a real photo", async () => {
    const res = await analyze(bytesOf(fixtures.photoJpeg), "tier=fast&attributes=age", { env: { CACHE_TTL_S: 0 } });
    expect(res.status).toBe(200);
    const a = (await res.json()) as Answer;
    expect(a.route).toBe("edge");
    expect(a.image).toMatchObject({ width: reference.width, height: reference.height });
    expect(a.faces).toHaveLength(reference.faces.length);
    a.faces.forEach((face, i) => {
      const ref = reference.faces[i];
      expect(Math.abs(face.age.value - ref.age)).toBeLessThanOrEqual(reference.tolerance);
      expect(Math.abs(face.age.std - ref.std)).toBeLessThanOrEqual(reference.tolerance);
      for (const k of ["x", "y", "width", "height"] as const) expect(Math.abs(face.box[k] - ref.box[k])).toBeLessThanOrEqual(0.5);
    });
  });

  it.each(["photoPng", "photoWebp"] as const)("decodes %s of the same photo to the same face", async (name) => {
    const res = await analyze(bytesOf(fixtures[name]), "tier=fast&attributes=age", { env: { CACHE_TTL_S: 0 } });
    expect(res.status).toBe(200);
    const a = (await res.json()) as Answer;
    expect(a.image).toMatchObject({ width: reference.width, height: reference.height });
    expect(a.faces).toHaveLength(1);
    // Other codecs, slightly different pixels: the same face, about the same estimate.
    expect(Math.abs(a.faces[0].box.x - reference.faces[0].box.x)).toBeLessThan(reference.width * 0.05);
    expect(Math.abs(a.faces[0].age.value - reference.faces[0].age)).toBeLessThan(3);
  });
});
