/**
 * A closed-loop load that runs until stopped and keeps every request's start, end, status and
 * route, so that one continuous load can be cut into windows around events (a fault injected, a
 * runner back) and each window summarised: how many answers, which routes, p50/p99.
 */
import { percentile } from "../../test/support/stats";

export interface Sample {
  /** ms since the load started. */
  start: number;
  end: number;
  status: number;
  /** `gpu`, `edge`, `edge-fallback`, `cache`, or `HTTP <status>` / `error`. */
  route: string;
}

export interface WindowSummary {
  requests: number;
  routes: Record<string, number>;
  p50: number;
  p99: number;
}

export interface RunningLoad {
  /** ms since the load started. */
  now(): number;
  /** Stops sending; resolves once every request in flight has ended. */
  stop(): Promise<Sample[]>;
}

export interface LoadSpec {
  url: string;
  query: string;
  headers: Record<string, string>;
  body: () => Buffer;
  connections: number;
  timeoutMs?: number;
  /** Wait out a 429/503's Retry-After (at most this many ms) before the next request, as the typed client does. */
  honourRetryAfterMs?: number;
}

export function startLoad(o: LoadSpec): RunningLoad {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const samples: Sample[] = [];
  let running = true;
  const lane = async () => {
    while (running) {
      const start = now();
      let status = 0;
      let route = "error";
      try {
        const res = await fetch(`${o.url}/v1/analyze?${o.query}`, {
          method: "POST",
          headers: o.headers,
          body: new Uint8Array(o.body()),
          signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
        });
        const text = await res.text();
        status = res.status;
        const m = /"route":"([a-z-]+)","cached":(true|false)/.exec(text);
        route = m ? (m[2] === "true" ? "cache" : m[1]) : `HTTP ${status}`;
        samples.push({ start, end: now(), status, route });
        const retryAfter = Number(res.headers.get("retry-after"));
        const cap = o.honourRetryAfterMs ?? 0;
        if (cap > 0 && (status === 429 || status === 503) && retryAfter > 0) {
          await new Promise((r) => setTimeout(r, Math.min(retryAfter * 1000, cap)));
        }
      } catch {
        samples.push({ start, end: now(), status, route }); // no answer: counted as `error`
      }
    }
  };
  const lanes = Array.from({ length: o.connections }, lane);
  return {
    now,
    stop: async () => {
      running = false;
      await Promise.all(lanes);
      return samples;
    },
  };
}

/** The requests that started in [from, to). */
export function summarize(samples: Sample[], from: number, to: number): WindowSummary {
  const inWindow = samples.filter((s) => s.start >= from && s.start < to);
  const routes: Record<string, number> = {};
  for (const s of inWindow) routes[s.route] = (routes[s.route] ?? 0) + 1;
  const ms = inWindow.map((s) => s.end - s.start);
  return { requests: inWindow.length, routes, p50: percentile(ms, 0.5), p99: percentile(ms, 0.99) };
}
