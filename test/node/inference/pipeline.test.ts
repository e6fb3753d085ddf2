import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { initDecodersForNode } from "../../../src/cli/node-decoders";
import { loadCard, loadDetector, nodeBackend } from "../../../src/cli/node-models";
import { REPO } from "../../../src/cli/paths";
import { evaluate } from "../../../src/cli/eval";
import { AttributeModel, analyzePhoto, alignForModel } from "../../../src/inference";
import { createWebBackend } from "../../../src/backends/web";
import { decodeImage, FaceDetector } from "../../../src/vision";
import { describeWith } from "../../support/require-data";
import { webNativeToleranceOf } from "../../support/runtime-tolerance";
import { FACE_PHOTOS, facePhoto } from "../vision/fixtures";

describeWith(
  "photo pipeline (decode -> detect -> align -> infer)",
  {
    data: [FACE_PHOTOS, "utkface/labels.csv", "utkface/200", "mebeauty/scores.csv", "mebeauty/photos"],
    models: ["TinyAgeNet", "TinyAttNet"],
  },
  () => {
    let detector: FaceDetector;
    let models: AttributeModel[];
    beforeAll(async () => {
      await initDecodersForNode();
      detector = await loadDetector();
      models = await Promise.all(
        ["TinyAgeNet", "TinyAttNet"].map((n) => {
          const { card, model } = loadCard(`models/${n}.json`);
          return AttributeModel.create(card, model, nodeBackend());
        }),
      );
    });
    afterAll(async () => {
      await detector?.release();
      for (const m of models ?? []) await m.release();
    });

    it("gives each face every model's prediction, equal to running the steps by hand", async () => {
      const bytes = facePhoto(42);
      const result = await analyzePhoto(bytes, detector, models, { flip: true });
      expect(result.faces.length).toBe(1);
      const face = result.faces[0];
      expect(Object.keys(face.predictions)).toEqual(["TinyAgeNet", "TinyAttNet"]);
      for (const phase of ["decode", "detect", "align", "infer"] as const) expect(result.timings[phase]).toBeGreaterThan(0);
      // The same steps, one at a time.
      const image = await decodeImage(bytes);
      const [again] = await detector.detect(image);
      for (const model of models) {
        const [p] = await model.predict([alignForModel(image, again, model)], { flip: true });
        expect(face.predictions[model.card.name].value).toBeCloseTo(p.value, 6);
        const { min, max } = model.card.labels;
        expect(p.value).toBeGreaterThanOrEqual(min);
        expect(p.value).toBeLessThanOrEqual(max);
        expect(p.interval90[0]).toBeLessThanOrEqual(p.value + p.std * 3);
      }
    });

    it("runs on onnxruntime-web (injected wasm module) with the same faces and ages as on onnxruntime-node", async () => {
      const wasmModule = await WebAssembly.compile(
        readFileSync(join(REPO, "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm")),
      );
      const web = createWebBackend({ wasmModule });
      const { BLAZEFACE_FRONT, BLAZEFACE_BACK } = await import("../../../src/cli/node-models");
      const webDetector = await FaceDetector.create(readFileSync(BLAZEFACE_FRONT), web, { backModel: readFileSync(BLAZEFACE_BACK) });
      const { card, model } = loadCard("models/TinyAgeNet.json");
      const webModel = await AttributeModel.create(card, model, web);
      const bytes = facePhoto(7);
      const a = await analyzePhoto(bytes, webDetector, [webModel]);
      const b = await analyzePhoto(bytes, detector, [models[0]]);
      expect(a.faces.length).toBe(b.faces.length);
      a.faces.forEach((f, i) => {
        f.keypoints.forEach(([x, y], k) => {
          expect(Math.abs(x - b.faces[i].keypoints[k][0])).toBeLessThan(0.05);
          expect(Math.abs(y - b.faces[i].keypoints[k][1])).toBeLessThan(0.05);
        });
        expect(Math.abs(f.predictions.TinyAgeNet.value - b.faces[i].predictions.TinyAgeNet.value)).toBeLessThan(
          webNativeToleranceOf("TinyAgeNet"),
        );
      });
      await webDetector.release();
      await webModel.release();
    });

    it("eval reports N, detection rate, metrics and timing for photos and crops", async () => {
      const photos = await evaluate({ model: "models/TinyAgeNet.json", set: "utkface200:test", input: "photos", limit: 12 });
      expect(photos.n_items).toBe(12);
      expect(photos.detection_rate).toBeGreaterThanOrEqual(11 / 12);
      expect(photos.metrics!.n).toBe(photos.n);
      expect(Object.keys(photos.metrics!.bands!)).toEqual(["0-12", "13-19", "20-39", "40-59", "60+"]);
      expect(photos.ms_per_phase.detect).toBeGreaterThan(0);
      const crops = await evaluate({ model: "models/TinyAgeNet.json", set: "utkface200:test", input: "crops", limit: 12 });
      expect([crops.n, crops.detection_rate, crops.ms_per_phase.detect]).toEqual([12, null, 0]);
      const attractiveness = await evaluate({ model: "models/TinyAttNet.json", set: "mebeauty:test", input: "photos", limit: 6 });
      expect(attractiveness.metrics!.cs5).toBeUndefined();
      await expect(evaluate({ model: "models/TinyAttNet.json", set: "aaf", input: "crops", limit: 1 })).rejects.toThrow(/attractiveness/);
    });
  },
);
