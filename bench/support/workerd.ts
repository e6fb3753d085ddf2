/** Workers under local workerd for the benches (wrangler's `unstable_dev`), offline and on a date it supports. */
import path from "node:path";
import { unstable_dev, type Unstable_DevWorker } from "wrangler";
import { REPO_ROOT } from "../../scripts/lib/repo";
import { localCompatibilityDate, OFFLINE_WRANGLER_ENV } from "../../scripts/lib/workerd";

/**
 * Starts `script` with `config` (both relative to the repository; default: the per-phase bench
 * worker, bench/workerd/) and returns it with the compatibility date it runs under.
 */
export async function startBenchWorker(
  options: { script?: string; config?: string; vars?: Record<string, unknown> } = {},
): Promise<{ worker: Unstable_DevWorker; compatibilityDate: string }> {
  Object.assign(process.env, OFFLINE_WRANGLER_ENV);
  const compat = await localCompatibilityDate();
  const worker = await unstable_dev(path.join(REPO_ROOT, options.script ?? "bench/workerd/worker.ts"), {
    config: path.join(REPO_ROOT, options.config ?? "bench/workerd/wrangler.toml"),
    ip: "127.0.0.1",
    local: true,
    logLevel: "warn",
    compatibilityDate: compat.date,
    ...(options.vars ? { vars: options.vars as Record<string, string> } : {}),
    experimental: { disableExperimentalWarning: true },
  });
  return { worker, compatibilityDate: compat.date };
}
