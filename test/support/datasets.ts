/**
 * The shared datasets (read at test and bench time, never copied into the repository): where they
 * are and what is in them. The location itself is src/cli/paths.ts's `dataDir()` ($DATA_DIR, else
 * ../shared/datasets beside the repository), the same the CLIs use.
 *
 * Tests that need them go through test/support/require-data.ts, which fails under CI=true.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { dataDir } from "../../src/cli/paths";

export const DATA_DIR = dataDir();

/** Every image file under `dir` (recursively), sorted by path; none when `dir` does not exist. */
export function listImages(dir: string, pattern = /\.(jpe?g|png|webp)$/i): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listImages(path.join(dir, e.name), pattern) : pattern.test(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

/** The photos of one set under the datasets folder (e.g. "mebeauty/photos"); throws when there are none. */
export function datasetImages(set: string): string[] {
  const files = listImages(path.join(DATA_DIR, set));
  if (files.length === 0) throw new Error(`no photos in ${path.join(DATA_DIR, set)} (set DATA_DIR to the datasets folder)`);
  return files;
}

/** Which of `paths` (relative to the datasets folder) are missing. */
export function missingData(paths: readonly string[]): string[] {
  return paths.filter((p) => !existsSync(path.join(DATA_DIR, p)));
}
