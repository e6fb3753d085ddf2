/**
 * Answers cached by what determines them: the SHA-256 of the image bytes, the versions of every
 * model on the path that would answer, and the options that change the answer. A hit is served
 * without decoding the image. Only the JSON answer is stored, never the image.
 *
 * Storage is the Workers Cache API (per data centre). It is a cache, not a database: entries may
 * vanish at any time and the service must (and does) work without them.
 */
import { sha256Hex } from "../crypto/sha256";

/** Bump when the shape of a stored answer changes, so old entries are never read back. */
export const ANSWER_SCHEMA_VERSION = 1;

export interface CacheKeyParts {
  imageSha256: string;
  /** Model role -> version, for every model that shapes the answer (detector included). */
  models: Record<string, string>;
  /** Options that change the answer (not those that only change how it is delivered). */
  options: Record<string, string | number | boolean | readonly string[]>;
}

/** Deterministic: object keys are sorted, so the order callers list things in does not matter. */
export async function analysisCacheKey(parts: CacheKeyParts): Promise<string> {
  return sha256Hex(canonicalJson({ v: ANSWER_SCHEMA_VERSION, ...parts }));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export class AnalysisCache {
  constructor(
    private readonly cache: Cache,
    private readonly ttlSeconds: number,
    /** A host that is never fetched: Cache API keys must be URLs. */
    private readonly namespace = "https://analysis-cache.internal",
  ) {}

  private request(key: string): Request {
    return new Request(`${this.namespace}/v1/${key}`);
  }

  async get<T>(key: string): Promise<T | undefined> {
    const hit = await this.cache.match(this.request(key));
    return hit ? ((await hit.json()) as T) : undefined;
  }

  async put(key: string, answer: unknown): Promise<void> {
    const body = JSON.stringify(answer);
    await this.cache.put(
      this.request(key),
      new Response(body, {
        headers: { "Content-Type": "application/json", "Cache-Control": `public, max-age=${this.ttlSeconds}` },
      }),
    );
  }
}
