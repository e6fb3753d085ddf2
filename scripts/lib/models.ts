/** The model files the local stack serves, and a check that they are there. */
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./repo";

/** The models the worker bundles (Tiny*) and the runner serves (Thin*), as `models/<name>.{onnx,json}`. */
export const SERVED_MODELS = ["TinyAgeNet", "TinyAttNet", "ThinAgeNet", "ThinAttNet"] as const;

/** Fails early, with what to do, when model files are missing (they are build output, not in git). */
export function checkModels(dir = path.join(REPO_ROOT, "models")): void {
  const missing = SERVED_MODELS.flatMap((name) => [`${name}.onnx`, `${name}.json`]).filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new Error(
      `missing model files in ${dir}: ${missing.join(", ")}.\n` +
        "Train and export them with training/scripts/models.sh (see README, Training), or copy a release's models/ folder here.",
    );
  }
}
