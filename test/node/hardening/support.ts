/**
 * The hardening tests' own helpers: a request ledger that accounts for every request sent, a
 * bounded pool, and the worker's health. Photos, API keys and the fake runner are test/support's.
 */

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

  async send(
    baseUrl: string,
    tier: string,
    body: Uint8Array,
    options: { key?: string; timeoutMs?: number; query?: string } = {},
  ): Promise<Outcome> {
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

export async function health(baseUrl: string): Promise<{ status: string; runner: { breaker: string; latency_ewma_ms: number | null } }> {
  return (await (await fetch(`${baseUrl}/healthz`)).json()) as {
    status: string;
    runner: { breaker: string; latency_ewma_ms: number | null };
  };
}
