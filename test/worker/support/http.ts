/** Calling the worker from tests running inside workerd, with the bindings of wrangler.toml. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { inject } from "vitest";
import { KeyStore } from "../../../src/keys/key-store";
import { app } from "../../../src/worker";
import type { FaultMode } from "../../support/fault-modes";

export const fixtures = inject("fixtures");

export function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

export interface CallOptions {
  method?: string;
  body?: BodyInit | Uint8Array;
  headers?: Record<string, string>;
  /** Client IP as Cloudflare reports it (the anonymous caller's rate-limit partition). */
  ip?: string;
  key?: string;
  /** Binding overrides: the request runs through the same app with this configuration. */
  env?: Partial<Env>;
  /** The Cloudflare location the request arrives at (`request.cf.colo`); needs `env`. */
  colo?: string;
}

let ipCounter = 0;
/** A client IP no other test uses (each anonymous IP has its own rate-limit object). */
export function freshIp(): string {
  ipCounter += 1;
  return `198.51.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

export async function call(path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { "CF-Connecting-IP": options.ip ?? freshIp(), ...options.headers };
  if (options.key) headers.Authorization = `Bearer ${options.key}`;
  const init: RequestInit = {
    method: options.method ?? (options.body !== undefined ? "POST" : "GET"),
    headers,
    body: options.body as BodyInit | undefined,
  };
  const url = `http://api.test${path}`;
  if (!options.env) return exports.default.fetch(url, init);
  const ctx = createExecutionContext();
  const request = new Request(url, options.colo ? { ...init, cf: { colo: options.colo } } : init);
  const res = await app.fetch(request, { ...env, ...options.env } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export async function analyze(bytes: Uint8Array, query = "", options: CallOptions = {}): Promise<Response> {
  return call(`/v1/analyze${query ? `?${query}` : ""}`, { ...options, body: bytes });
}

export async function createKey(plan: string, name = "test"): Promise<{ key: string; id: string }> {
  return new KeyStore(env.KEYS).create(plan, name);
}

/** Waits until at least `marginS` seconds remain in the current UTC minute (exact-count tests). */
export async function awayFromMinuteEdge(marginS = 8): Promise<void> {
  const left = 60 - ((Date.now() / 1000) % 60);
  if (left < marginS) await new Promise((r) => setTimeout(r, left * 1000 + 200));
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { name: string; reason: string }[];
}

/**
 * Controls a virtual runner of the fault proxy (test/support/fault-runner.ts): `mode` for
 * the next `count` requests (all of them without), then `then` (default pass).
 */
export async function setFault(
  name: string,
  mode: FaultMode,
  delayMs = 0,
  count?: number,
  then?: { mode: FaultMode; delayMs?: number },
  minRows?: number,
): Promise<void> {
  const res = await fetch(`${env.FAULT_RUNNER_URL}/control/${name}`, {
    method: "POST",
    body: JSON.stringify({ mode, delayMs, count, then, minRows }),
  });
  if (!res.ok) throw new Error(`fault control ${res.status}`);
}

async function faultState(name: string): Promise<{ requests: number; abandoned: number }> {
  return (await (await fetch(`${env.FAULT_RUNNER_URL}/control/${name}`)).json()) as { requests: number; abandoned: number };
}

/** Requests that reached the virtual runner. */
export async function faultRequests(name: string): Promise<number> {
  return (await faultState(name)).requests;
}

/** Requests whose caller (the worker) hung up before the answer was complete. */
export async function faultAbandoned(name: string): Promise<number> {
  return (await faultState(name)).abandoned;
}

export function faultRunnerUrl(name: string): string {
  return `${env.FAULT_RUNNER_URL}/r/${name}`;
}
