/**
 * Plans and their rate-limit policies. The numbers live in `wrangler.toml` (`[vars.PLANS]`);
 * this module only gives them a shape and turns them into the windowed policies the
 * RateLimiter enforces.
 */
import { z } from "zod";

export const planSchema = z.object({
  /** Requests per fixed UTC minute. */
  per_minute: z.number().int().positive(),
  /** Requests per fixed UTC day. */
  per_day: z.number().int().positive(),
  /** Most images in one `/v1/analyze/batch` request. */
  max_batch: z.number().int().positive().default(8),
});

export const plansSchema = z
  .record(z.string().regex(/^[a-z][a-z0-9_-]*$/), planSchema)
  .refine((plans) => "free" in plans, { message: "a `free` plan is required (anonymous callers get it)" });

/**
 * The overall budget of all anonymous callers of one Cloudflare location together, on top of each
 * caller's own: per-IP buckets alone let an IPv6 /48 (65,536 /64 buckets) use the free plan
 * 65,536 times over.
 */
export const anonymousBudgetSchema = z.object({
  per_minute: z.number().int().positive(),
  per_day: z.number().int().positive(),
});

export type Plan = z.infer<typeof planSchema>;
export type AnonymousBudget = z.infer<typeof anonymousBudgetSchema>;
export type Plans = z.infer<typeof plansSchema>;

/** One window of a plan, named as it appears in the RateLimit / RateLimit-Policy headers. */
export interface RatePolicy {
  name: string;
  quota: number;
  windowSeconds: number;
}

export function parsePlans(raw: unknown): Plans {
  const value = typeof raw === "string" ? JSON.parse(raw) : raw;
  return plansSchema.parse(value);
}

export function parseAnonymousBudget(raw: unknown): AnonymousBudget | null {
  if (raw === undefined || raw === null || raw === "") return null;
  return anonymousBudgetSchema.parse(typeof raw === "string" ? JSON.parse(raw) : raw);
}

/** `prefix` names the windows of a budget that is not the caller's own (e.g. `anonymous-minute`). */
export function policiesOf(plan: Pick<Plan, "per_minute" | "per_day">, prefix = ""): RatePolicy[] {
  return [
    { name: `${prefix}minute`, quota: plan.per_minute, windowSeconds: 60 },
    { name: `${prefix}day`, quota: plan.per_day, windowSeconds: 86_400 },
  ];
}
