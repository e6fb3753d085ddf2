/**
 * The one fake GPU runner of the tests and benches: a fault-injecting HTTP proxy in front of the
 * real runner that can be told, per virtual runner (`/r/<name>/...`; any other path is the virtual
 * runner "default"), to pass requests through, answer slowly, fail with 500, return garbage, drop
 * the connection, or stream a huge answer (`huge`: 200, 64 MiB in 64 KiB chunks without
 * Content-Length, or until the client hangs up). Only the faults are simulated; every answer that
 * gets through comes from the real runner. A caller that hangs up is passed on: the upstream
 * request is aborted too, as a transparent proxy would.
 *
 * Without an upstream it stands in for a runner that is up but cannot serve, on the port it is
 * given (the real runner's, once that is stopped): what would pass through is answered 503, so
 * `slow` holds each request for `delayMs` and then answers 503, and `garbage` answers 200 with
 * bodies that look like, but are not, KServe v2 inference responses.
 *
 *   POST /control/<name>  {"mode": "pass" | "slow" | "error" | "garbage" | "drop" | "huge", "delayMs"?: n,
 *                          "count"?: n, "then"?: {"mode", "delayMs"?}, "minRows"?: n}
 *                         (with `count`, only the next n requests get the fault, then `then`'s, default pass;
 *                          with `minRows`, only requests of at least n crops: accurate's have one per view of each face)
 *   GET  /control/<name>  -> {"mode", "requests", "abandoned"}  (requests that reached this virtual
 *                            runner; those whose caller hung up before the answer was complete)
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { FaultMode } from "./fault-modes";

export type { FaultMode };

interface Fault {
  mode: FaultMode;
  delayMs: number;
}

interface VirtualRunner {
  fault: Fault;
  /** Requests with fewer crops than this pass, untouched and uncounted by `remaining`. */
  minRows: number;
  /** Requests left that get `fault`; Infinity when it stays until told otherwise. */
  remaining: number;
  then: Fault;
  requests: number;
  abandoned: number;
}

const PASS: Fault = { mode: "pass", delayMs: 0 };

export interface FaultRunnerOptions {
  /** The real runner's base URL; without one, what would pass through is answered 503. */
  upstream?: string;
  /** The port to listen on (127.0.0.1); default: one the OS picks. */
  port?: number;
  /** The fault of the virtual runner "default" (the paths outside /r/<name>/) from the start. */
  fault?: { mode: FaultMode; delayMs?: number };
}

export interface FaultRunner {
  url: string;
  /** Requests that reached a virtual runner so far (default: "default"). */
  requests(name?: string): number;
  close(): Promise<void>;
}

/** Bodies that look like, but are not, KServe v2 inference responses (the fault `garbage` without an upstream). */
const FORGED: { type: string; body: Buffer }[] = [
  {
    type: "application/json",
    body: Buffer.from('{"model_name":"ThinAgeNet","outputs":[{"name":"probs","datatype":"FP32","shape":[1,101],"data":[0.5,0.5]}]}'),
  },
  { type: "application/json", body: Buffer.from('{"outputs": "\u0000\u0001 not tensors"') },
  // Binary-extension framing that lies about its header length.
  { type: "application/octet-stream", body: Buffer.from(Array.from({ length: 777 }, (_, i) => (i * 131) & 255)) },
  {
    type: "application/json",
    body: Buffer.from('{"model_name":"ThinAgeNet","outputs":[{"name":"probs","datatype":"FP32","shape":[-1,7],"data":["NaN",null,{}]}]}'),
  },
];

export async function startFaultRunner(upstreamOrOptions: string | FaultRunnerOptions = {}): Promise<FaultRunner> {
  const {
    upstream,
    port: listenPort = 0,
    fault: initial,
  } = typeof upstreamOrOptions === "string" ? { upstream: upstreamOrOptions } : upstreamOrOptions;
  const runners = new Map<string, VirtualRunner>();
  const runner = (name: string) => {
    let r = runners.get(name);
    if (!r) {
      // biome-ignore lint/suspicious/noThenProperty: the control API's word for the fault after `count` requests
      r = { fault: PASS, minRows: 0, remaining: Infinity, then: PASS, requests: 0, abandoned: 0 };
      runners.set(name, r);
    }
    return r;
  };
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const control = /^\/control\/([\w-]+)$/.exec(req.url ?? "");
    if (control) {
      const r = runner(control[1]);
      if (req.method === "POST") {
        const c = JSON.parse(body.toString("utf8")) as {
          mode: FaultMode;
          delayMs?: number;
          count?: number;
          minRows?: number;
          then?: { mode: FaultMode; delayMs?: number };
        };
        r.fault = { mode: c.mode, delayMs: c.delayMs ?? 0 };
        r.minRows = c.minRows ?? 0;
        r.remaining = c.count ?? Infinity;
        // biome-ignore lint/suspicious/noThenProperty: see runner() above
        r.then = c.then ? { mode: c.then.mode, delayMs: c.then.delayMs ?? 0 } : PASS;
      }
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ mode: r.fault.mode, requests: r.requests, abandoned: r.abandoned }));
      return;
    }
    const route = /^\/r\/([\w-]+)(\/.*)$/.exec(req.url ?? "") ?? [req.url ?? "/", "default", req.url ?? "/"];
    const r = runner(route[1]);
    r.requests++;
    let { mode, delayMs } = PASS;
    if (rowsOf(req.headers, body) >= r.minRows) {
      ({ mode, delayMs } = r.remaining > 0 ? r.fault : r.then);
      r.remaining--;
    }
    const hungUp = new AbortController();
    res.once("close", () => {
      if (res.writableFinished || mode === "drop") return;
      r.abandoned++;
      hungUp.abort();
    });
    if (mode === "drop") return void req.socket.destroy();
    if (mode === "error") {
      return void res.writeHead(500, { "content-type": "application/problem+json" }).end('{"title":"injected failure","status":500}');
    }
    if (mode === "huge") {
      res.writeHead(200, { "content-type": "application/octet-stream", "inference-header-content-length": "2" });
      const chunk = Buffer.alloc(64 * 1024, 0x7b);
      for (let sent = 0; sent < 64 * 1024 * 1024 && !res.destroyed; sent += chunk.length) {
        if (!res.write(chunk))
          await new Promise((resolve) => {
            res.once("drain", resolve);
            res.once("close", resolve);
          });
      }
      return void res.end();
    }
    if (mode === "slow") {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        hungUp.signal.addEventListener(
          "abort",
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      if (hungUp.signal.aborted) return;
    }
    if (!upstream) {
      if (mode !== "garbage")
        return void res.writeHead(503, { "content-type": "application/problem+json" }).end('{"title":"no upstream runner","status":503}');
      const forged = FORGED[r.requests % FORGED.length];
      const headers: Record<string, string> = { "content-type": forged.type };
      if (forged.type === "application/octet-stream") headers["inference-header-content-length"] = "4096";
      return void res.writeHead(200, headers).end(forged.body);
    }
    let upstreamRes: Response;
    let answer: Buffer;
    try {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === "string" && k !== "host" && k !== "content-length") headers.set(k, v);
      upstreamRes = await fetch(upstream + route[2], {
        method: req.method,
        headers,
        body: req.method === "GET" ? undefined : body,
        signal: hungUp.signal,
      });
      answer = Buffer.from(await upstreamRes.arrayBuffer());
    } catch {
      return void req.socket.destroy();
    }
    const outHeaders: Record<string, string> = {};
    upstreamRes.headers.forEach((v, k) => {
      if (k !== "content-length" && k !== "transfer-encoding" && k !== "connection") outHeaders[k] = v;
    });
    if (mode === "garbage" && upstreamRes.ok) {
      // The real answer with its tensor bytes overwritten: right framing, meaningless values.
      const headerLength = Number(upstreamRes.headers.get("inference-header-content-length") ?? answer.length);
      for (let i = headerLength; i < answer.length; i++) answer[i] = 0xff;
    }
    if (res.destroyed) return;
    res.writeHead(upstreamRes.status, outHeaders).end(answer);
  });
  if (initial) runner("default").fault = { mode: initial.mode, delayMs: initial.delayMs ?? 0 };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: (name = "default") => runners.get(name)?.requests ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Crops in a KServe v2 infer request (its first input's first dimension); 0 when it is not one. */
function rowsOf(headers: http.IncomingHttpHeaders, body: Buffer): number {
  try {
    const headerLength = Number(headers["inference-header-content-length"] ?? body.length);
    const json = JSON.parse(body.subarray(0, headerLength).toString("utf8")) as { inputs?: { shape?: number[] }[] };
    return json.inputs?.[0]?.shape?.[0] ?? 0;
  } catch {
    return 0;
  }
}
