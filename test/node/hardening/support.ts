/**
 * Shared by the hardening tests and bench/hardening.ts: real photos, a request ledger that
 * accounts for every request sent, a fault-injecting stand-in for the GPU runner (slow or
 * garbage answers only; a dead runner is the real runner killed), and API keys made with the
 * real admin CLI.
 */
import { spawnSync } from "node:child_process";
import http from "node:http";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../../scripts/lib/repo";

export const DATA_DIR = process.env.DATA_DIR ? path.resolve(process.env.DATA_DIR) : path.resolve(REPO_ROOT, "../shared/datasets");

/** The first `n` MEBeauty photos (real portraits, at most 512 px), sorted by name. */
export function photos(n: number): Buffer[] {
  const dir = path.join(DATA_DIR, "mebeauty/photos");
  if (!existsSync(dir)) throw new Error(`no photos in ${dir} (set DATA_DIR)`);
  const list = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? list(path.join(d, e.name)) : /\.jpe?g$/i.test(e.name) ? [path.join(d, e.name)] : []))
      .sort();
  return list(dir).slice(0, n).map((f) => readFileSync(f));
}

/** The same JPEG with a COM segment after SOI: identical pixels, new bytes (never a cache hit). */
export function withComment(jpeg: Buffer, text: string): Buffer {
  const payload = Buffer.from(text, "latin1");
  const segment = Buffer.alloc(4 + payload.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(payload.length + 2, 2);
  payload.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

/** Creates an API key with the admin CLI in a local state folder (before the worker starts). */
export function createKey(persistTo: string, plan: string, name = "hardening", plans?: string): { key: string; id: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/keys/cli.ts", "create", "--plan", plan, "--name", name, "--persist-to", persistTo, "--json"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: plans ? { ...process.env, PLANS: plans } : process.env,
  });
  if (r.status !== 0) throw new Error(`keys create failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as { key: string; id: string };
}

export interface Outcome {
  tier: string;
  /** HTTP status, or 0 when no answer came (connection error or client timeout). */
  status: number;
  route?: string;
  problemType?: string;
  ms: number;
  error?: string;
}

/** Every request sent is in exactly one bucket: answered (some HTTP status) or failed (no answer). */
export class Ledger {
  readonly outcomes: Outcome[] = [];
  sent = 0;

  async send(baseUrl: string, tier: string, body: Uint8Array, options: { key?: string; timeoutMs?: number; query?: string } = {}): Promise<Outcome> {
    this.sent += 1;
    const started = performance.now();
    let outcome: Outcome;
    try {
      const res = await fetch(`${baseUrl}/v1/analyze?tier=${tier}${options.query ?? ""}`, {
        method: "POST",
        body: body as unknown as BodyInit,
        headers: { "content-type": "image/jpeg", ...(options.key ? { authorization: `Bearer ${options.key}` } : {}) },
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
      const text = await res.text();
      outcome = { tier, status: res.status, ms: performance.now() - started };
      try {
        const doc = JSON.parse(text) as { route?: string; type?: string };
        outcome.route = doc.route;
        outcome.problemType = doc.type;
      } catch {
        outcome.error = "unparsable body";
      }
    } catch (err) {
      outcome = { tier, status: 0, ms: performance.now() - started, error: (err as Error).name };
    }
    this.outcomes.push(outcome);
    return outcome;
  }

  counts(filter: (o: Outcome) => boolean = () => true) {
    const os = this.outcomes.filter(filter);
    return {
      sent: os.length,
      answered: os.filter((o) => o.status > 0).length,
      ok: os.filter((o) => o.status >= 200 && o.status < 300).length,
      refused503: os.filter((o) => o.status === 503).length,
      otherStatus: os.filter((o) => o.status > 0 && o.status !== 503 && (o.status < 200 || o.status >= 300)).length,
      failed: os.filter((o) => o.status === 0).length,
      fallback: os.filter((o) => o.route === "edge-fallback").length,
      gpu: os.filter((o) => o.route === "gpu").length,
    };
  }
}

/** Runs `count` sends with at most `concurrency` in flight; `onSettled` sees each as it ends. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

export type StandInMode = "slow" | "garbage";

/**
 * A stand-in for the runner on the runner's own port (the real one is stopped first): `slow`
 * holds every request for `holdMs` and then answers 503; `garbage` answers 200 with bodies that
 * look like, but are not, KServe v2 inference responses. Counts the requests that reached it.
 */
export async function startStandIn(port: number, mode: StandInMode, holdMs = 20_000): Promise<{ requests(): number; setMode(m: StandInMode): void; close(): Promise<void> }> {
  let requests = 0;
  let current = mode;
  const timers = new Set<NodeJS.Timeout>();
  const garbage = [
    () => ({ type: "application/json", body: Buffer.from('{"model_name":"ThinAgeNet","outputs":[{"name":"probs","datatype":"FP32","shape":[1,101],"data":[0.5,0.5]}]}') }),
    () => ({ type: "application/json", body: Buffer.from('{"outputs": "\u0000\u0001 not tensors"') }),
    () => ({ type: "application/octet-stream", body: Buffer.from(Array.from({ length: 777 }, (_, i) => (i * 131) & 255)) }),
    () => ({ type: "application/json", body: Buffer.from('{"model_name":"ThinAgeNet","outputs":[{"name":"probs","datatype":"FP32","shape":[-1,7],"data":["NaN",null,{}]}]}') }),
  ];
  const server = http.createServer((req, res) => {
    requests += 1;
    req.resume();
    if (current === "slow") {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) res.writeHead(503, { "content-type": "application/problem+json" }).end('{"status":503}');
      }, holdMs);
      timers.add(t);
      return;
    }
    const g = garbage[requests % garbage.length]();
    // Binary-extension framing that lies about its header length, for the octet-stream variant.
    const headers: Record<string, string> = { "content-type": g.type };
    if (g.type === "application/octet-stream") headers["inference-header-content-length"] = "4096";
    res.writeHead(200, headers).end(g.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    requests: () => requests,
    setMode: (m) => (current = m),
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

export async function health(baseUrl: string): Promise<{ status: string; runner: { breaker: string; latency_ewma_ms: number | null } }> {
  return (await (await fetch(`${baseUrl}/healthz`)).json()) as { status: string; runner: { breaker: string; latency_ewma_ms: number | null } };
}

export function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
}
