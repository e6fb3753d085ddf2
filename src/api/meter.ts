/**
 * Who is calling and how much they may: resolves the caller from `Authorization: Bearer <key>`
 * (or the client IP when anonymous), charges the request to that caller's RateLimiter Durable
 * Object (and an anonymous caller's also to the location's overall anonymous budget), refuses with
 * 429 past a limit, and puts the IETF RateLimit headers on every response of the metered routes,
 * errors included.
 *
 * When the key store or a rate limiter cannot answer, metered routes fail closed with a 503 and
 * `Retry-After` (letting requests through unmetered would hand the runner to anyone during an
 * outage), while free routes (cost 0) are served without RateLimit headers.
 */
import type { Context, MiddlewareHandler } from "hono";
import { clientPartition, type Caller } from "../keys/api-keys";
import { KeyStore } from "../keys/key-store";
import { rateLimitHeaders } from "../limits/headers";
import { policiesOf } from "../limits/plans";
import type { RateDecision, RateLimiter } from "../limits/rate-limiter";
import type { LogVariables } from "./log";
import { ApiProblem, problemResponse } from "./problem";
import { settingsOf } from "./settings";

/** Seconds a caller is told to wait when metering is down: Durable Object and KV blips are short. */
export const METERING_RETRY_AFTER_S = 5;

export interface MeterVariables {
  caller: Caller;
  decision: RateDecision;
}

/** The part of a request context metering needs (any app whose variables include MeterVariables). */
interface MeterContext {
  env: Env;
  req: { raw: Request };
  get<K extends keyof MeterVariables>(key: K): MeterVariables[K];
  set<K extends keyof MeterVariables>(key: K, value: MeterVariables[K]): void;
}

function limiterFor(env: Env, partition: string): DurableObjectStub<RateLimiter> {
  return (env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>).getByName(partition);
}

/** The Durable Object of the overall anonymous budget: one per Cloudflare location. */
export function anonymousBudgetPartition(request: Request): string {
  const colo = (request as { cf?: { colo?: unknown } }).cf?.colo;
  return `anonymous-budget:${typeof colo === "string" ? colo : "unknown"}`;
}

/**
 * Charges `cost` to the caller, and an anonymous caller's also to the location's anonymous budget.
 * Returns the refusing decision if either refuses, else the caller's. Throws MeteringUnavailable.
 */
async function charge(c: MeterContext, caller: Caller, cost: number): Promise<RateDecision> {
  const s = settingsOf(c.env);
  try {
    const own = await limiterFor(c.env, caller.kind === "key" ? `key:${caller.id}` : caller.id).consume(
      policiesOf(s.plans[caller.plan]),
      cost,
    );
    c.set("decision", own);
    if (!own.allowed || caller.kind !== "anonymous" || cost === 0 || !s.anonymousBudget) return own;
    const overall = await limiterFor(c.env, anonymousBudgetPartition(c.req.raw)).consume(policiesOf(s.anonymousBudget, "anonymous-"), cost);
    if (overall.allowed) return own;
    // The caller's own windows and the exhausted overall ones, so the headers say which ran out.
    return { allowed: false, retryAfterSeconds: overall.retryAfterSeconds, policies: [...own.policies, ...overall.policies] };
  } catch (err) {
    throw new MeteringUnavailable(err);
  }
}

function refusal(decision: RateDecision, extraHeaders: Record<string, string> = {}): Response {
  const windows = decision.policies.filter((p) => p.remaining === 0).map((p) => p.name);
  const anonymous = windows.some((w) => w.startsWith("anonymous-"));
  const detail = anonymous
    ? "The budget shared by all anonymous callers here is used up for now; retry later or call with an API key."
    : `The ${windows.join(" and ") || "rate"} limit of this plan is used up.`;
  return problemResponse("rate-limited", detail, { headers: { ...rateLimitHeaders(decision), ...extraHeaders } });
}

/** The caller a request presents: a known key, anonymous, or a key that does not check out (`invalid`). */
async function identify(env: Env, request: Request): Promise<{ caller: Caller; invalid: boolean }> {
  const anonymous: Caller = { kind: "anonymous", id: clientPartition(request.headers.get("CF-Connecting-IP")), plan: "free" };
  const authorization = request.headers.get("Authorization") ?? undefined;
  if (authorization === undefined) return { caller: anonymous, invalid: false };
  const presented = /^Bearer +([^\s]+)$/i.exec(authorization.trim())?.[1];
  let record;
  try {
    record = presented ? await new KeyStore(env.KEYS).lookup(presented) : null;
  } catch (err) {
    throw new MeteringUnavailable(err);
  }
  if (record && record.plan in settingsOf(env).plans) {
    return { caller: { kind: "key", id: record.id, plan: record.plan, name: record.name }, invalid: false };
  }
  // A bad key is charged to the client's anonymous budget, so guessing keys is rate-limited too.
  return { caller: anonymous, invalid: true };
}

/** `cost`: requests charged up front (0 only reports the state). */
export function meter(
  cost: (c: Context) => number,
): MiddlewareHandler<{ Bindings: Env; Variables: MeterVariables & Partial<LogVariables> }> {
  return async (c, next) => {
    const units = cost(c);
    let decision: RateDecision;
    let invalidKey: boolean;
    try {
      const who = await identify(c.env, c.req.raw);
      invalidKey = who.invalid;
      c.set("caller", who.caller);
      decision = await charge(c, who.caller, invalidKey ? 1 : units);
    } catch (err) {
      if (!(err instanceof MeteringUnavailable)) throw err;
      c.set("error", err.cause);
      if (units > 0) {
        c.res = problemResponse(err.kind, err.detail, { headers: err.extra.headers });
        return;
      }
      // A free route charges nothing, so there is nothing to protect: serve it, without headers.
      await next();
      return;
    }
    if (!decision.allowed) {
      c.res = refusal(decision);
      return;
    }
    if (invalidKey) {
      c.res = problemResponse("unauthorized", "The API key is missing its Bearer scheme, unknown or revoked.", {
        headers: { ...rateLimitHeaders(decision), "WWW-Authenticate": 'Bearer error="invalid_token"' },
      });
      return;
    }
    await next();
    const headers = rateLimitHeaders(c.get("decision"));
    try {
      for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
    } catch {
      // Immutable headers (a response passed through from elsewhere): copy it.
      c.res = new Response(c.res.body, c.res);
      for (const [k, v] of Object.entries(headers)) c.res.headers.set(k, v);
    }
  };
}

/**
 * Charges `extra` more requests to the current caller (a batch costs one per image); throws a 429
 * problem when that passes the limit. The first request was charged by `meter` already.
 */
export async function chargeExtra(c: MeterContext, extra: number): Promise<void> {
  if (extra <= 0) return;
  const decision = await charge(c, c.get("caller"), extra);
  if (!decision.allowed) throw new RateLimitedProblem(decision);
}

export class RateLimitedProblem extends ApiProblem {
  constructor(readonly decision: RateDecision) {
    super("rate-limited", "This batch would pass the plan's limit; no image of it was analysed.", { headers: rateLimitHeaders(decision) });
  }
}

/** The key store or a rate limiter failed: 503, fail closed. `cause` is for the log (name only). */
export class MeteringUnavailable extends ApiProblem {
  override readonly cause: string;
  constructor(err: unknown) {
    super("metering-unavailable", "API keys or rate limits cannot be checked right now; metered requests are refused until they can.", {
      headers: { "Retry-After": String(METERING_RETRY_AFTER_S) },
    });
    this.cause = `metering: ${err instanceof Error ? err.name : "unknown"}`;
  }
}
