/** Running the worker in local workerd: the wrangler this checkout ships and the date it can run. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { REPO_ROOT } from "./repo";

/** wrangler's entry point in node_modules (run with `node`, not through npx). */
export const WRANGLER = path.join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js");

/**
 * Environment for wrangler that works offline: a placeholder Request.cf instead of fetching one,
 * and no telemetry.
 */
export const OFFLINE_WRANGLER_ENV = { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" } as const;

/**
 * The compatibility date to run the worker under locally: wrangler.toml's, unless the workerd
 * binary this wrangler ships is older than that date (it refuses to start then). Production runs
 * on Cloudflare's current runtime with wrangler.toml's date either way.
 */
export async function localCompatibilityDate(): Promise<{ date: string; configured: string; lowered: boolean }> {
  const configured = /^compatibility_date\s*=\s*"([\d-]+)"/m.exec(readFileSync(path.join(REPO_ROOT, "wrangler.toml"), "utf8"))?.[1] ?? "";
  let supported = configured;
  try {
    const workerd = createRequire(WRANGLER).resolve("workerd");
    supported = ((await import(workerd)) as { compatibilityDate?: string }).compatibilityDate ?? configured;
  } catch {
    // no separate workerd package: keep the configured date
  }
  const lowered = configured !== "" && supported < configured;
  return { date: lowered ? supported : configured, configured, lowered };
}
