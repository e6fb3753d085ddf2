/** Real face photos from the shared datasets (read at test time, never copied into the repo). */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../../scripts/stack";

export const DATA_DIR = process.env.DATA_DIR ? path.resolve(process.env.DATA_DIR) : path.resolve(REPO_ROOT, "../shared/datasets");
export const ARTIFACTS = path.join(REPO_ROOT, "test/artifacts");

function listImages(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listImages(path.join(dir, e.name)) : /\.jpe?g$/i.test(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

/**
 * A real photo with one clearly visible adult face: MEBeauty's test photos (portraits, max side
 * 512), else AAF's. `FACE_PHOTO` picks another file.
 */
export function facePhotoPath(index = 0): string {
  if (process.env.FACE_PHOTO) return path.resolve(process.env.FACE_PHOTO);
  const photos = [...listImages(path.join(DATA_DIR, "mebeauty/photos")), ...listImages(path.join(DATA_DIR, "aaf/faces"))];
  if (photos.length <= index) throw new Error(`no face photos under ${DATA_DIR} (set DATA_DIR or FACE_PHOTO)`);
  return photos[index];
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
