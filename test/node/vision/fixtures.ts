/** Real photos from the shared datasets, and fixtures derived from them with sharp at test time. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";

export const DATA_DIR = process.env.DATA_DIR ? resolve(process.env.DATA_DIR) : resolve(__dirname, "../../../../shared/datasets");
export const hasData = existsSync(join(DATA_DIR, "aaf/faces"));

/** A real face photo (AAF: whole head with background, ~232x295). */
export function facePhoto(index = 0): Uint8Array {
  const dir = join(DATA_DIR, "aaf/faces");
  return readFileSync(join(dir, readdirSync(dir).sort()[index]));
}

/** Every photo file under a folder (recursively), sorted. */
export function listImages(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listImages(p));
    else if (/\.(jpe?g|png|webp)$/i.test(entry.name)) out.push(p);
  }
  return out.sort();
}

export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}
