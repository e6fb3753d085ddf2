/**
 * Node side of the workerd tests (vitest globalSetup): starts the real GPU runner as a child
 * process and a fault-injecting proxy in front of it, reads real photos from the shared datasets
 * (never copied into the repository) and derives the other inputs from them, and runs the Node
 * path (onnxruntime-node) on a photo so the workerd tests can check the edge gives the same ages.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import sharp from "sharp";
import type { TestProject } from "vitest/node";
import { startRunnerProcess, type RunnerProcess } from "../../gpu-runner/test/runner-process";
import { initDecodersForNode } from "../../src/cli/node-decoders";
import { loadCard, loadDetector } from "../../src/cli/node-models";
import { AttributeModel } from "../../src/inference/model";
import { analyzePhoto } from "../../src/inference/pipeline";
import { tierConfig } from "@faceage/contracts/card";
import { nodeBackend } from "../../src/cli/node-models";
import { DATA_DIR, datasetImages } from "../support/datasets";
import { startFaultRunner } from "../support/fault-runner";
import { adultFacePhoto } from "../support/photos";
import { webNativeToleranceOf } from "../support/runtime-tolerance";
import type { Fixtures, NodeReference } from "./provided-context";

export const RUNNER_SECRET = "workerd-tests-runner-secret-0123456789";

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runner: RunnerProcess = await startRunnerProcess({
    RUNNER_SECRET,
    // Only the models the edge calls: other JSON files in models/ must not stop it.
    RUNNER_MODELS: "ThinAgeNet,ThinAttNet",
    RUNNER_PROVIDERS: "cpu",
    RUNNER_INTRA_OP_THREADS: "1",
    RUNNER_LOG_LEVEL: "info", // the start line ("runner listening") is logged at info
  });
  const fault = await startFaultRunner(runner.url);

  // A real photo with one face, found by the Node path itself.
  await initDecodersForNode();
  const detector = await loadDetector();
  const { card, model } = loadCard("models/TinyAgeNet.json");
  const tinyAge = await AttributeModel.create(card, model, nodeBackend());
  const thin = loadCard("models/ThinAgeNet.json");
  const thinAge = await AttributeModel.create(thin.card, thin.model, nodeBackend());
  // A real photo with one face every age model calls clearly adult (so beauty is given).
  const photo = (await adultFacePhoto(datasetImages("mebeauty/photos").slice(0, 60))).bytes;
  // Each tier as its card says it runs (serving.tiers), for the worker's answers to match.
  const result = await analyzePhoto(photo, detector, [tinyAge], { ...tierConfig(card, "fast"), maxFaces: 5 });
  const standard = await analyzePhoto(photo, detector, [thinAge], { ...tierConfig(thin.card, "standard"), maxFaces: 5 });
  const accurate = await analyzePhoto(photo, detector, [thinAge], { ...tierConfig(thin.card, "accurate"), maxFaces: 5 });
  const reference: NodeReference = {
    width: result.width,
    height: result.height,
    faces: result.faces.map((f) => ({ box: f.box, age: f.predictions[card.name].value, std: f.predictions[card.name].std })),
    thinAge: {
      standard: standard.faces[0].predictions[thin.card.name].value,
      accurate: accurate.faces[0].predictions[thin.card.name].value,
    },
    tolerance: webNativeToleranceOf(card.name),
  };

  // A young child (AAF's label: 6 or under) alone in the photo: beauty must be withheld.
  const aafLabels = readFileSync(join(DATA_DIR, "aaf/labels.csv"), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","));
  let child: Uint8Array | undefined;
  for (const [file] of aafLabels.filter(([, age]) => Number(age) <= 6).slice(0, 20)) {
    const bytes = new Uint8Array(readFileSync(join(DATA_DIR, "aaf/faces", file)));
    if ((await analyzePhoto(bytes, detector, [tinyAge], { flip: false, maxFaces: 5 })).faces.length === 1) {
      child = bytes;
      break;
    }
  }
  if (!child) throw new Error(`no one-face photo of a young child among AAF's in ${DATA_DIR}`);

  // Several faces: three AAF photos side by side.
  const aaf = datasetImages("aaf/faces").slice(0, 3);
  const tiles = await Promise.all(aaf.map((f) => sharp(f).resize(232, 295, { fit: "fill" }).toBuffer()));
  const group = await sharp({ create: { width: 232 * 3, height: 295, channels: 3, background: "#808080" } })
    .composite(tiles.map((input, i) => ({ input, left: i * 232, top: 0 })))
    .jpeg({ quality: 90 })
    .toBuffer();

  // Twenty faces, for fan-out: two rows of ten AAF photos, a layout BlazeFace finds all of.
  const crowdFiles = datasetImages("aaf/faces").slice(0, 20);
  const crowdTiles = await Promise.all(crowdFiles.map((f) => sharp(f).resize(232, 295, { fit: "fill" }).toBuffer()));
  const crowd = await sharp({ create: { width: 232 * 10, height: 295 * 2, channels: 3, background: "#808080" } })
    .composite(crowdTiles.map((input, i) => ({ input, left: (i % 10) * 232, top: Math.floor(i / 10) * 295 })))
    .jpeg({ quality: 90 })
    .toBuffer();
  const crowdFaces = (await analyzePhoto(new Uint8Array(crowd), detector, [tinyAge], { flip: false, maxFaces: 20 })).faces.length;
  if (crowdFaces !== 20) throw new Error(`the crowd fixture has ${crowdFaces} detectable faces, not 20`);

  // A PNG whose header claims 30000x30000 (a decompression bomb's shape); nothing behind it.
  const bomb = new Uint8Array(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: "#000" } })
      .png()
      .toBuffer(),
  );
  new DataView(bomb.buffer).setUint32(16, 30000);
  new DataView(bomb.buffer).setUint32(20, 30000);

  const fixtures: Fixtures = {
    photoJpeg: b64(photo),
    childJpeg: b64(child),
    photoPng: b64(await sharp(photo).png().toBuffer()),
    photoWebp: b64(await sharp(photo).webp({ quality: 90 }).toBuffer()),
    groupJpeg: b64(group),
    crowdJpeg: b64(crowd),
    noFacePng: b64(
      await sharp({ create: { width: 320, height: 240, channels: 3, background: "#6a8caf" } })
        .png()
        .toBuffer(),
    ),
    truncatedJpeg: b64(photo.subarray(0, Math.floor(photo.length / 2))),
    notImage: b64(new TextEncoder().encode("%PDF-1.7\n% not an image at all\n")),
    bombPng: b64(bomb),
  };

  const hostileDir = resolve(import.meta.dirname, "../fixtures/hostile");
  const manifest = JSON.parse(readFileSync(join(hostileDir, "manifest.json"), "utf8")) as {
    file: string;
    expect: "4xx" | "200";
    what: string;
  }[];
  project.provide(
    "hostile",
    manifest.map((e) => ({ ...e, base64: b64(readFileSync(join(hostileDir, e.file))) })),
  );
  project.provide("runnerUrl", runner.url);
  project.provide("faultRunnerUrl", fault.url);
  project.provide("runnerSecret", RUNNER_SECRET);
  project.provide("fixtures", fixtures);
  project.provide("nodeReference", reference);

  return async () => {
    await fault.close();
    await runner.stop();
  };
}
