import { readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { describeWith } from "../../support/require-data";
import { createNodeBackend } from "../../../src/backends/node";
import { createWebBackend } from "../../../src/backends/web";
import { AttributeModel } from "../../../src/inference/model";
import { labelVector } from "../../../src/inference/label-math";
import { parseModelCard } from "@faceage/contracts/card";
import { flipHorizontal, type RgbImage } from "../../../src/vision/image";

// The vectors are written by the Python side (training/dldl/vectors.py) from the same export with
// PyTorch. Every model with a vector is checked against it; a vector whose model files are missing
// fails under CI (test/support/require-data.ts).
const ROOT = resolve(__dirname, "../../..");
const VECTORS = join(ROOT, "test/vectors/models");
const names = readdirSync(VECTORS)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -5));

function load(name: string) {
  const vector = JSON.parse(readFileSync(join(VECTORS, `${name}.json`), "utf8"));
  const card = parseModelCard(JSON.parse(readFileSync(join(ROOT, "models", `${name}.json`), "utf8")));
  const bytes = new Uint8Array(readFileSync(join(ROOT, "models", card.file)));
  const [n, h, w, c] = vector.input.shape as number[];
  const pixels = new Uint8Array(Buffer.from(vector.input.base64, "base64"));
  expect(pixels.length).toBe(n * h * w * c);
  const crops: RgbImage[] = Array.from({ length: n }, (_, i) => ({
    width: w,
    height: h,
    data: pixels.subarray(i * h * w * c, (i + 1) * h * w * c),
  }));
  return { vector, card, bytes, pixels, crops, shape: [n, h, w, c] };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describeWith("exported models against the PyTorch vectors", { models: names }, () => {
  it("there are vectors to check", () => expect(names.length).toBeGreaterThan(0));
  for (const name of names) {
    describe(name, () => {
      it("vector and card describe the same export", () => {
        const { vector, card } = load(name);
        if (vector.sha256) expect(vector.sha256, "test/vectors/models is stale or models/ is; re-export both").toBe(card.sha256);
      });

      it("onnxruntime-node reproduces probs, value and scoremap within 1e-4", async () => {
        const { vector, card, bytes, pixels, shape } = load(name);
        const session = await createNodeBackend().createSession(bytes);
        const out = await session.run({ [card.input.name]: { type: "uint8", data: pixels, dims: shape } });
        expect(maxAbsDiff(out[card.outputs.probs.name].data, vector.outputs.probs.flat())).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(out[card.outputs.value.name].data, vector.outputs.value)).toBeLessThanOrEqual(1e-4);
        expect(maxAbsDiff(out[card.outputs.scoremap.name].data, vector.outputs.scoremap.flat(2))).toBeLessThanOrEqual(1e-4);
        await session.release();
      });

      it("AttributeModel without flip gives the vector's values; flip-averaging is mirror-symmetric", async () => {
        const { vector, card, bytes, crops } = load(name);
        const model = await AttributeModel.create(card, bytes, createNodeBackend());
        const plain = await model.predict(crops, { flip: false, distribution: true, scoremap: true });
        plain.forEach((p, i) => {
          expect(Math.abs(p.value - vector.outputs.value[i])).toBeLessThanOrEqual(1e-4);
          expect(p.scoremap!.length).toBe(card.outputs.scoremap.shape[1]);
          expect(p.interval90[0]).toBeLessThanOrEqual(p.interval90[1]);
          expect(p.distribution!.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
        });
        const flipped = await model.predict(crops, { flip: true });
        const mirrored = await model.predict(crops.map(flipHorizontal), { flip: true });
        flipped.forEach((p, i) => {
          expect(Math.abs(p.value - mirrored[i].value)).toBeLessThan(1e-4);
          const labels = labelVector(card.labels);
          expect(p.value).toBeGreaterThanOrEqual(labels[0]);
          expect(p.value).toBeLessThanOrEqual(labels[labels.length - 1]);
        });
        await model.release();
      });

      it("refuses model bytes that are not the card's", async () => {
        const { card, bytes } = load(name);
        const tampered = bytes.slice();
        tampered[tampered.length - 1] ^= 1;
        await expect(AttributeModel.create(card, tampered, createNodeBackend())).rejects.toThrow(/sha256/);
      });
    });
  }

  it("onnxruntime-web with an injected precompiled wasm module agrees with onnxruntime-node", async () => {
    const { card, bytes, crops } = load(names[0]);
    // Compiled here from bytes (Node allows it); workerd passes the module it imported instead.
    const wasmModule = await WebAssembly.compile(readFileSync(join(ROOT, "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm")));
    const web = await AttributeModel.create(card, bytes, createWebBackend({ wasmModule }));
    const node = await AttributeModel.create(card, bytes, createNodeBackend());
    const a = await web.predict(crops, { distribution: true });
    const b = await node.predict(crops, { distribution: true });
    a.forEach((p, i) => {
      expect(Math.abs(p.value - b[i].value)).toBeLessThan(1e-3);
      expect(maxAbsDiff(p.distribution!, b[i].distribution!)).toBeLessThan(1e-4);
    });
  });
});
