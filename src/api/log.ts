/**
 * One structured log line per request (JSON, for Workers Logs / Logpush). What it may hold is
 * fixed here: method, path, status, timing, the caller's kind and plan, a short prefix of a key's
 * hash, the route, why the runner was skipped, and the cache outcome. Never the image, its hash,
 * a key, or query values.
 */
import type { MiddlewareHandler } from "hono";
import type { MeterVariables } from "./meter";

export interface LogVariables {
  /** For a batch, `route` lists every route taken (comma-separated) and `items` counts the images. */
  analysis: { route: string; cached: boolean; faces: number; items?: number; fallback?: string };
  error: string;
}

export function requestLog(): MiddlewareHandler<{ Bindings: Env; Variables: LogVariables & Partial<MeterVariables> }> {
  return async (c, next) => {
    const started = Date.now();
    await next();
    const caller = c.get("caller");
    const analysis = c.get("analysis");
    const error = c.get("error");
    console.log(
      JSON.stringify({
        at: new Date(started).toISOString(),
        ray: c.req.header("CF-Ray") ?? null,
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Date.now() - started,
        caller: caller ? (caller.kind === "key" ? `key:${caller.id.slice(0, 8)}` : "anonymous") : null,
        plan: caller?.plan ?? null,
        ...(analysis
          ? {
              route: analysis.route,
              cached: analysis.cached,
              faces: analysis.faces,
              ...(analysis.items !== undefined ? { items: analysis.items } : {}),
              ...(analysis.fallback ? { fallback: analysis.fallback } : {}),
            }
          : {}),
        ...(error ? { error } : {}),
      }),
    );
  };
}
