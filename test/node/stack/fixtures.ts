/** Real face photos from the shared datasets (read at test time, never copied into the repo). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../../scripts/lib/repo";

export const DATA_DIR = process.env.DATA_DIR ? path.resolve(process.env.DATA_DIR) : path.resolve(REPO_ROOT, "../shared/datasets");
export const ARTIFACTS = path.join(REPO_ROOT, "test/artifacts");

function listImages(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listImages(path.join(dir, e.name)) : /\.jpe?g$/i.test(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

function facePhotos(): string[] {
  return [...listImages(path.join(DATA_DIR, "mebeauty/photos")), ...listImages(path.join(DATA_DIR, "aaf/faces"))];
}

/** A real photo with one face (MEBeauty's test portraits, max side 512, else AAF's). `FACE_PHOTO` picks another file. */
export function facePhotoPath(index = 0): string {
  if (process.env.FACE_PHOTO) return path.resolve(process.env.FACE_PHOTO);
  const photos = facePhotos();
  if (photos.length <= index) throw new Error(`no face photos under ${DATA_DIR} (set DATA_DIR or FACE_PHOTO)`);
  return photos[index];
}

/**
 * The first photo with exactly one face that every age model (each tier: TinyAgeNet without flip,
 * ThinAgeNet in one pass and with the accurate tier's views) calls clearly adult, P(age < 18) <= 0.01, so the API gives its
 * beauty score (src/api/minors.ts). Chosen by the Node path itself, not by a hard-coded name.
 */
export async function adultFacePhoto(candidates = facePhotos().slice(0, 60)): Promise<{ path: string; bytes: Uint8Array }> {
  if (process.env.FACE_PHOTO) return { path: process.env.FACE_PHOTO, bytes: new Uint8Array(readFileSync(process.env.FACE_PHOTO)) };
  const env = await import("../../../src/cli/env");
  const { AttributeModel } = await import("../../../src/inference/model");
  const { analyzePhoto } = await import("../../../src/inference/pipeline");
  const { tierConfig } = await import("../../../src/models/card");
  await env.initDecodersForNode();
  const detector = await env.loadDetector();
  const models = await Promise.all(["models/TinyAgeNet.json", "models/ThinAgeNet.json"].map((c) => {
    const { card, model } = env.loadCard(c);
    return AttributeModel.create(card, model, env.nodeBackend());
  }));
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

/** Debian's Chromium, launched the way this machine allows (no sandbox, no GPU, no network extras). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
