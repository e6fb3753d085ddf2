/** Real photos from the shared datasets (test/support/datasets.ts), and comparing decoded pixels. */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DATA_DIR } from "../../support/datasets";

/** What the suites built on `facePhoto` need (for test/support/require-data.ts). */
export const FACE_PHOTOS = "aaf/faces";

/** A real face photo (AAF: whole head with background, ~232x295). */
export function facePhoto(index = 0): Uint8Array {
  const dir = join(DATA_DIR, FACE_PHOTOS);
  return readFileSync(join(dir, readdirSync(dir).sort()[index]));
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}
