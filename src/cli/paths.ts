/** Where the Node tools find the repository and the datasets. */
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Datasets folder: $DATA_DIR, else ../shared/datasets beside the repository. */
export function dataDir(): string {
  const env = process.env.DATA_DIR;
  return env ? resolve(env) : resolve(REPO, "../shared/datasets");
}

/** A path as given on a command line: absolute, or relative to the repository. */
export function repoPath(p: string): string {
  return isAbsolute(p) ? p : resolve(REPO, p);
}
