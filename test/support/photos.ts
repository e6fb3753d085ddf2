/** Real face photos from the shared datasets, and byte-level variants of them, for tests and benches. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { DATA_DIR, datasetImages, listImages } from "./datasets";

/** The first `n` MEBeauty photos (real portraits, at most 512 px), sorted by path. */
export function photos(n: number): Buffer[] {
  return datasetImages("mebeauty/photos")
    .slice(0, n)
    .map((f) => readFileSync(f));
}

function facePhotos(): string[] {
  return [...listImages(path.join(DATA_DIR, "mebeauty/photos")), ...listImages(path.join(DATA_DIR, "aaf/faces"))];
}

/** A real photo with one face (MEBeauty's test portraits, max side 512, else AAF's). `FACE_PHOTO` picks another file. */
export function facePhotoPath(index = 0): string {
  if (process.env.FACE_PHOTO) return path.resolve(process.env.FACE_PHOTO);
  const files = facePhotos();
  if (files.length <= index) throw new Error(`no face photos under ${DATA_DIR} (set DATA_DIR or FACE_PHOTO)`);
  return files[index];
}

/** The same JPEG with a COM segment after SOI: identical pixels, new bytes (never a cache hit). */
export function withComment(jpeg: Uint8Array, text: string): Buffer {
  const payload = Buffer.from(text, "latin1");
  const segment = Buffer.alloc(4 + payload.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(payload.length + 2, 2);
  payload.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/**
 * The first photo with exactly one face that every age model (each tier: TinyAgeNet without flip,
 * ThinAgeNet in one pass and with the accurate tier's views) calls clearly adult, P(age < 18) <= 0.01, so the API gives its
 * beauty score (src/api/minors.ts). Chosen by the Node path itself, not by a hard-coded name.
 */
export async function adultFacePhoto(candidates = facePhotos().slice(0, 60)): Promise<{ path: string; bytes: Uint8Array }> {
  if (process.env.FACE_PHOTO) return { path: process.env.FACE_PHOTO, bytes: new Uint8Array(readFileSync(process.env.FACE_PHOTO)) };
  const { initDecodersForNode } = await import("../../src/cli/node-decoders");
  const { loadCard, loadDetector, nodeBackend } = await import("../../src/cli/node-models");
  const { AttributeModel } = await import("../../src/inference/model");
  const { analyzePhoto } = await import("../../src/inference/pipeline");
  const { tierConfig } = await import("@faceage/contracts/card");
  await initDecodersForNode();
  const detector = await loadDetector();
  const models = await Promise.all(
    ["models/TinyAgeNet.json", "models/ThinAgeNet.json"].map((c) => {
      const { card, model } = loadCard(c);
      return AttributeModel.create(card, model, nodeBackend());
    }),
  );
  for (const file of candidates) {
    const bytes = new Uint8Array(readFileSync(file));
    const risks = [];
    for (const views of [{ flip: false }, tierConfig(models[1].card, "accurate")]) {
      const { faces } = await analyzePhoto(bytes, detector, models, { ...views, maxFaces: 5, probabilityBelow: 18 });
      if (faces.length !== 1) break;
      risks.push(...Object.values(faces[0].predictions).map((p) => p.probabilityBelow!));
    }
    if (risks.length === 4 && Math.max(...risks) <= 0.01) return { path: file, bytes };
  }
  throw new Error(`no clearly adult one-face photo among ${candidates.length} under ${DATA_DIR}`);
}
