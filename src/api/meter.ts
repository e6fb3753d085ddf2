/**
 * Who is calling and how much they may: resolves the caller from `Authorization: Bearer <key>`
 * (or the client IP when anonymous), charges the request to that caller's RateLimiter Durable
 * Object, refuses with 429 past the limit, and puts the IETF RateLimit headers on every response
 * of the metered routes, errors included.
 */
import type { Context, MiddlewareHandler } from "hono";
import { clientPartition, KeyStore, type Caller } from "../keys/keys";
import { rateLimitHeaders } from "../limits/headers";
import { policiesOf } from "../limits/plans";
import type { RateDecision, RateLimiter } from "../limits/rate-limiter";
import { ApiProblem, problemResponse } from "./problem";
import { settingsOf } from "./settings";

export interface MeterVariables {
  caller: Caller;
  decision: RateDecision;
}

/** The part of a request context metering needs (any app whose variables include MeterVariables). */
interface MeterContext {
  env: Env;
  get<K extends keyof MeterVariables>(key: K): MeterVariables[K];
  set<K extends keyof MeterVariables>(key: K, value: MeterVariables[K]): void;
}

function limiterFor(env: Env, partition: string): DurableObjectStub<RateLimiter> {
  return (env.RATE_LIMITER as unknown as DurableObjectNamespace<RateLimiter>).getByName(partition);
}

async function charge(c: MeterContext, caller: Caller, cost: number): Promise<RateDecision> {
  const plan = settingsOf(c.env).plans[caller.plan];
  const decision = await limiterFor(c.env, caller.kind === "key" ? `key:${caller.id}` : caller.id).consume(policiesOf(plan), cost);
  c.set("decision", decision);
  return decision;
}

function refusal(decision: RateDecision, extraHeaders: Record<string, string> = {}): Response {
  const windows = decision.policies.filter((p) => p.remaining === 0).map((p) => p.name);
  return problemResponse("rate-limited", `The ${windows.join(" and ") || "rate"} limit of this plan is used up.`, {
    headers: { ...rateLimitHeaders(decision), ...extraHeaders },
  });
}

/** `cost`: requests charged up front (0 only reports the state). */
export function meter(cost: (c: Context) => number): MiddlewareHandler<{ Bindings: Env; Variables: MeterVariables }> {
  return async (c, next) => {
    const anonymous: Caller = { kind: "anonymous", id: clientPartition(c.req.header("CF-Connecting-IP") ?? null), plan: "free" };
    const authorization = c.req.header("Authorization");
    let caller: Caller = anonymous;
    let invalidKey = false;
    if (authorization !== undefined) {
      const presented = /^Bearer +([^\s]+)$/i.exec(authorization.trim())?.[1];
      const record = presented ? await new KeyStore(c.env.KEYS).lookup(presented) : null;
      if (record && record.plan in settingsOf(c.env).plans) {
        caller = { kind: "key", id: record.id, plan: record.plan, name: record.name };
      } else {
        // A bad key is charged to the client's anonymous budget, so guessing keys is rate-limited too.
        invalidKey = true;
      }
    }
    c.set("caller", caller);
    const decision = await charge(c, caller, invalidKey ? 1 : cost(c));
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
    const final = c.get("decision");
    const headers = rateLimitHeaders(final);
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
