/**
 * The worker's settings, read from its typed `env` (wrangler.toml vars and secrets) once per env
 * object and validated: a misconfigured deployment fails loudly on its first request instead of
 * misbehaving quietly.
 */
import { z } from "zod";
import { MAX_BATCH } from "../inference/model";
import { parseAnonymousBudget, parsePlans, type AnonymousBudget, type Plans } from "../limits/plans";
import { checkRunnerUrl } from "./runner-url";

const num = (min: number) => z.coerce.number().int().min(min);

const settingsSchema = z.object({
  RUNNER_URL: z.string().default(""),
  /** "true" lets a runner on a non-loopback host be reached over plain http (a local network only). */
  RUNNER_ALLOW_HTTP: z.enum(["true", "false", ""]).default("false"),
  RUNNER_SECRET: z.string().default(""),
  RUNNER_MAX_BATCH: num(1).default(MAX_BATCH),
  STANDARD_DEADLINE_MS: num(1),
  ACCURATE_DEADLINE_MS: num(1),
  BREAKER_FAILURES: num(1),
  BREAKER_OPEN_MS: num(1),
  SLOW_RUNNER_PROBE_MS: num(0).default(2000),
  MAX_IMAGE_BYTES: num(1),
  MAX_BATCH_BYTES: num(1),
  MAX_PIXELS: num(1),
  CACHE_TTL_S: num(0),
  // Unset: each age model's own threshold (its card). Capped: no deployment can turn the minors
  // check into a formality.
  MINOR_RISK: z.preprocess((v) => (v === "" ? undefined : v), z.coerce.number().min(0).max(0.5).optional()),
});

export interface Settings {
  runner: { url: string; secret: string; maxBatch: number } | null;
  standardDeadlineMs: number;
  accurateDeadlineMs: number;
  breaker: { failureThreshold: number; openMs: number };
  /** How long `standard` avoids a runner whose latency EWMA is over its deadline before probing it again. */
  slowRunnerProbeMs: number;
  maxImageBytes: number;
  maxBatchBytes: number;
  maxPixels: number;
  cacheTtlSeconds: number;
  /** Beauty is withheld when a face's calibrated P(age < 18) is above this; undefined: the age card's (src/api/minors.ts). */
  minorRisk: number | undefined;
  plans: Plans;
  /** All anonymous callers of one location together; null: no overall cap. */
  anonymousBudget: AnonymousBudget | null;
}

const memo = new WeakMap<object, Settings>();

export function settingsOf(env: Env): Settings {
  let s = memo.get(env);
  if (!s) {
    const v = settingsSchema.parse(env);
    if (v.RUNNER_URL) checkRunnerUrl(v.RUNNER_URL, v.RUNNER_ALLOW_HTTP === "true");
    s = {
      runner: v.RUNNER_URL ? { url: v.RUNNER_URL, secret: v.RUNNER_SECRET, maxBatch: v.RUNNER_MAX_BATCH } : null,
      standardDeadlineMs: v.STANDARD_DEADLINE_MS,
      accurateDeadlineMs: v.ACCURATE_DEADLINE_MS,
      breaker: { failureThreshold: v.BREAKER_FAILURES, openMs: v.BREAKER_OPEN_MS },
      slowRunnerProbeMs: v.SLOW_RUNNER_PROBE_MS,
      maxImageBytes: v.MAX_IMAGE_BYTES,
      maxBatchBytes: v.MAX_BATCH_BYTES,
      maxPixels: v.MAX_PIXELS,
      cacheTtlSeconds: v.CACHE_TTL_S,
      minorRisk: v.MINOR_RISK,
      plans: parsePlans(env.PLANS),
      anonymousBudget: parseAnonymousBudget(env.ANONYMOUS_BUDGET),
    };
    memo.set(env, s);
  }
  return s;
}
