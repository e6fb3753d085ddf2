/**
 * One load measurement against the local stack's /v1/analyze with autocannon: warm-up requests
 * (model load, JIT, the cache entry itself), then `connections` concurrent clients for
 * `durationS`, counting every answer by HTTP status and by where it came from (`cache`, or its
 * route: `edge`, `gpu`, `edge-fallback`). Shared by bench/edge.ts and bench/hardening.ts.
 */
import { percentile } from "../../test/support/stats";

type Autocannon = (opts: Record<string, unknown>) => {
  on(event: "response", fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
} & PromiseLike<{ duration: number; errors: number; timeouts: number }>;

export interface LoadOptions {
  name: string;
  /** Base URL of the worker. */
  url: string;
  /** Query string of /v1/analyze, e.g. `tier=fast`. */
  query: string;
  headers: Record<string, string>;
  /** The body of each request (return new bytes to defeat the cache). */
  body: () => Buffer;
  connections: number;
  durationS: number;
  /** Requests sent one by one before measuring; each must answer 2xx. Default 2. */
  warmup?: number;
}

export interface LoadResult {
  name: string;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  statuses: Record<string, number>;
  routes: Record<string, number>;
  /** Connection errors and timeouts (no HTTP answer). */
  errors: number;
  connections: number;
  durationS: number;
}

export async function measureLoad(o: LoadOptions): Promise<LoadResult> {
  const autocannon = ((await import("autocannon" as string)) as { default: Autocannon }).default;
  const path = `/v1/analyze?${o.query}`;
  for (let i = 0; i < (o.warmup ?? 2); i++) {
    const res = await fetch(o.url + path, { method: "POST", headers: o.headers, body: new Uint8Array(o.body()) });
    if (!res.ok) throw new Error(`${o.name}: warm-up answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }
  const statuses: Record<string, number> = {};
  const routes: Record<string, number> = {};
  const latencies: number[] = [];
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.durationS,
    timeout: 30,
    requests: [
      {
        method: "POST",
        path,
        headers: o.headers,
        setupRequest: (req: object) => ({ ...req, body: o.body() }),
        onResponse: (status: number, text: string) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          const m = /"route":"([a-z-]+)","cached":(true|false)/.exec(text);
          const k = m ? (m[2] === "true" ? "cache" : m[1]) : `HTTP ${status}`;
          routes[k] = (routes[k] ?? 0) + 1;
        },
      },
    ],
  });
  instance.on("response", (_client, _status, _bytes, ms) => latencies.push(ms));
  const r = await instance;
  return {
    name: o.name,
    requests: latencies.length,
    rps: latencies.length / (r.duration || o.durationS),
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    statuses,
    routes,
    errors: r.errors + r.timeouts,
    connections: o.connections,
    durationS: o.durationS,
  };
}

/** Answers that were not 2xx, plus requests that got no answer. */
export const failures = (r: LoadResult) =>
  Object.entries(r.statuses).reduce((n, [status, count]) => (status.startsWith("2") ? n : n + count), 0) + r.errors;
