/**
 * The IETF rate-limit header fields (draft-ietf-httpapi-ratelimit-headers, structured-field
 * form): `RateLimit-Policy` states every quota, `RateLimit` the caller's remaining budget and
 * reset per policy. `Retry-After` (RFC 9110) is added only to refusals.
 */
import type { RateDecision } from "./rate-limiter";

export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Policy": decision.policies.map((p) => `"${p.name}";q=${p.quota};w=${p.windowSeconds}`).join(", "),
    RateLimit: decision.policies.map((p) => `"${p.name}";r=${p.remaining};t=${p.resetSeconds}`).join(", "),
  };
  if (!decision.allowed) headers["Retry-After"] = String(decision.retryAfterSeconds);
  return headers;
}
