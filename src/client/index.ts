/**
 * Typed client for the v1 API. Every type here is inferred from the zod schemas the worker
 * validates and documents with (src/api/schemas.ts), and answers are parsed with the same
 * schemas, so a client compiled against this module cannot drift from the API.
 *
 *   const client = new FaceAgeClient({ baseUrl: "http://127.0.0.1:8787", apiKey });
 *   const { faces } = await client.analyze(await readFile("face.jpg"), { tier: "fast" });
 *
 * 429 and 503 answers are retried after the server's `Retry-After` (bounded by `retry`); every
 * other failure is an `ApiError` carrying the RFC 9457 problem document.
 */
import type { z } from "@hono/zod-openapi";
import { analysisSchema, analyzeQuerySchema, batchSchema, healthSchema, modelsSchema, problemSchema } from "../api/schemas";

export type Analysis = z.output<typeof analysisSchema>;
export type Face = Analysis["faces"][number];
export type BatchAnalysis = z.output<typeof batchSchema>;
export type Models = z.output<typeof modelsSchema>;
export type Health = z.output<typeof healthSchema>;
export type Problem = z.output<typeof problemSchema>;
/** The query as the worker sees it after validation; every field optional here (server defaults). */
export type AnalyzeOptions = Partial<z.output<typeof analyzeQuerySchema>> & {
  /** Aborts the request and any wait before a retry. */
  signal?: AbortSignal;
};
export type { Attribute, Tier } from "../api/schemas";

/** JPEG, PNG or WebP bytes (the server sniffs the real type), or a Blob/File. */
export type ImageInput = Uint8Array | ArrayBuffer | Blob;

export interface RetryPolicy {
  /** Retries after the first attempt (0 disables retrying). Default 2. */
  maxRetries?: number;
  /** Longest single wait; a `Retry-After` above it is not waited for and the error surfaces. Default 30 s. */
  maxDelayMs?: number;
  /** Wait when a 429/503 carries no `Retry-After`: baseDelayMs * 2^attempt. Default 500 ms. */
  baseDelayMs?: number;
}

export interface RetryEvent {
  /** The attempt that failed, from 1. */
  attempt: number;
  status: number;
  /** The server's `Retry-After` in seconds, when it sent one. */
  retryAfterSeconds: number | undefined;
  delayMs: number;
}

export interface ClientOptions {
  /** e.g. `http://127.0.0.1:8787` or `https://api.example.com`. */
  baseUrl: string;
  /** An API key (`npm run keys -- create`); without one, calls use the free plan. */
  apiKey?: string;
  retry?: RetryPolicy;
  /** Called before each wait-and-retry (logging, metrics, tests). */
  onRetry?: (event: RetryEvent) => void;
  fetch?: typeof fetch;
}

/** A non-2xx answer: its status, problem document, and when to come back (429, 503). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    /** The server's `Retry-After`, in seconds, when it sent one. */
    readonly retryAfterSeconds: number | undefined,
    /** How many requests were made, retries included. */
    readonly attempts: number,
    readonly headers: Headers,
  ) {
    super(`${status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ""}`);
    this.name = "ApiError";
  }
}

/** The answer did not match the schema: the server and this client disagree on the contract. */
export class ContractError extends Error {
  constructor(
    message: string,
    readonly issues: z.core.$ZodIssue[],
  ) {
    super(message);
    this.name = "ContractError";
  }
}

const RETRYABLE = new Set([429, 503]);

/** `Retry-After` as seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

/** Sniffs the image type from its first bytes, so the raw body carries a truthful Content-Type. */
export function imageContentType(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "image/jpeg";
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return "image/png";
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  return "application/octet-stream";
}

async function imageBody(image: ImageInput): Promise<{ body: Uint8Array; type: string }> {
  const bytes =
    image instanceof Uint8Array ? image : image instanceof ArrayBuffer ? new Uint8Array(image) : new Uint8Array(await image.arrayBuffer());
  return { body: bytes, type: imageContentType(bytes) };
}

/** Options -> query string, checked against the worker's own query schema first. */
export function analyzeQuery(options: AnalyzeOptions = {}): URLSearchParams {
  const raw: Record<string, string> = {};
  if (options.attributes) raw.attributes = options.attributes.join(",");
  if (options.tier) raw.tier = options.tier;
  if (options.max_faces !== undefined) raw.max_faces = String(options.max_faces);
  if (options.distribution !== undefined) raw.distribution = String(options.distribution);
  if (options.explain !== undefined) raw.explain = String(options.explain);
  const checked = analyzeQuerySchema.safeParse(raw);
  if (!checked.success) {
    const errors = checked.error.issues.map((i) => ({ name: String(i.path[0] ?? "query"), reason: i.message }));
    throw new ApiError(
      400,
      { type: "about:blank", title: "Bad request parameters", status: 400, detail: "rejected by the client before sending", errors },
      undefined,
      0,
      new Headers(),
    );
  }
  return new URLSearchParams(raw);
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text().catch(() => "");
  try {
    const parsed = problemSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // not JSON (a proxy's error page): fall through
  }
  return { type: "about:blank", title: response.statusText || `HTTP ${response.status}`, status: response.status };
}

export class FaceAgeClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly retry: Required<RetryPolicy>;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.retry = { maxRetries: 2, maxDelayMs: 30_000, baseDelayMs: 500, ...options.retry };
  }

  /** Faces, boxes, age and attractiveness estimates for one image. */
  async analyze(image: ImageInput, options: AnalyzeOptions = {}): Promise<Analysis> {
    const query = analyzeQuery(options);
    const { body, type } = await imageBody(image);
    return this.request(
      `/v1/analyze?${query}`,
      { method: "POST", body, headers: { "content-type": type } },
      analysisSchema,
      options.signal,
    );
  }

  /** Several images in one request (at most the plan's `max_batch`); each has its own status. */
  async analyzeBatch(images: ImageInput[], options: AnalyzeOptions = {}): Promise<BatchAnalysis> {
    const query = analyzeQuery(options);
    const parts = await Promise.all(images.map(imageBody));
    // A fresh FormData per attempt: a body stream can be read only once.
    const form = () => {
      const f = new FormData();
      for (const [i, p] of parts.entries())
        f.append("image", new Blob([p.body as Uint8Array<ArrayBuffer>], { type: p.type }), `image-${i}`);
      return f;
    };
    return this.request(`/v1/analyze/batch?${query}`, { method: "POST", body: form }, batchSchema, options.signal);
  }

  /** The cards of the models in service. */
  models(signal?: AbortSignal): Promise<Models> {
    return this.request("/v1/models", { method: "GET" }, modelsSchema, signal);
  }

  health(signal?: AbortSignal): Promise<Health> {
    return this.request("/healthz", { method: "GET" }, healthSchema, signal);
  }

  private async request<S extends z.ZodType>(
    path: string,
    init: { method: string; body?: Uint8Array | (() => FormData); headers?: Record<string, string> },
    schema: S,
    signal?: AbortSignal,
  ): Promise<z.output<S>> {
    const headers: Record<string, string> = { accept: "application/json, application/problem+json", ...init.headers };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    for (let attempt = 1; ; attempt++) {
      const body = typeof init.body === "function" ? init.body() : (init.body as Uint8Array<ArrayBuffer> | undefined);
      const response = await this.fetchImpl(`${this.baseUrl}${path}`, { method: init.method, body, headers, signal });
      if (response.ok) {
        const parsed = schema.safeParse(await response.json());
        if (!parsed.success)
          throw new ContractError(`${init.method} ${path}: the answer does not match the API schema`, parsed.error.issues);
        return parsed.data;
      }
      const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
      const problem = await problemOf(response);
      if (RETRYABLE.has(response.status) && attempt <= this.retry.maxRetries) {
        const delayMs = retryAfterSeconds !== undefined ? retryAfterSeconds * 1000 : this.retry.baseDelayMs * 2 ** (attempt - 1);
        if (delayMs <= this.retry.maxDelayMs) {
          // A little jitter on top (never below what the server asked for), so clients told the
          // same Retry-After do not all come back in the same millisecond.
          const jittered = delayMs + Math.random() * Math.min(250, delayMs * 0.1);
          this.options.onRetry?.({ attempt, status: response.status, retryAfterSeconds, delayMs: jittered });
          await abortableSleep(jittered, signal);
          continue;
        }
      }
      throw new ApiError(response.status, problem, retryAfterSeconds, attempt, response.headers);
    }
  }
}

/** One-off call: `analyze(bytes, { baseUrl, tier: "fast" })`. */
export function analyze(image: ImageInput, options: AnalyzeOptions & ClientOptions): Promise<Analysis> {
  const { baseUrl, apiKey, retry, onRetry, fetch: fetchImpl, ...query } = options;
  return new FaceAgeClient({ baseUrl, apiKey, retry, onRetry, fetch: fetchImpl }).analyze(image, query);
}
