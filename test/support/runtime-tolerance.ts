import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../../scripts/lib/repo";

/**
 * How far onnxruntime-web (WASM, the worker) may answer from onnxruntime-node (the Node path) on the
 * same crops, in the card's label units. Float graphs agree to 1e-4 of the label range (0.01 years
 * for age). An int8 (QDQ) graph requantises in each runtime's own int8 kernels, so the two differ
 * more: bench/int8.ts measured up to 0.045 years (TinyAgeNet) and 0.007 points (TinyAttNet, 1-10)
 * on 64 validation crops (bench/results/int8.md); 1e-3 of the range (0.1 years, 0.009 points).
 */
export function webNativeTolerance(card: { labels: { min: number; max: number }; quantization?: unknown }): number {
  return (card.labels.max - card.labels.min) * (card.quantization ? 1e-3 : 1e-4);
}

/** The tolerance for models/<name>.json, read from the file itself (a parsed card may drop fields its schema does not know). */
export function webNativeToleranceOf(name: string): number {
  return webNativeTolerance(JSON.parse(readFileSync(join(REPO_ROOT, "models", `${name}.json`), "utf8")));
}
