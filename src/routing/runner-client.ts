/**
 * The edge worker's client for the GPU runner (gpu-runner/, KServe v2 / Open Inference Protocol
 * with binary tensors, encoded by @faceage/contracts/runner-protocol so both ends share one codec).
 *
 * A request uses the runner through one RunnerAttempt (one breaker permit, one deadline, one
 * outcome). Outcomes feed the health of the request's tier (src/routing/tier-health.ts): a
 * timeout only its own tier's, since it depends on that tier's deadline; a refused connection, a
 * 5xx or a garbled answer every tier's, since those are facts about the runner. Health lives per
 * isolate, keyed by runner URL, so it persists across requests on the same isolate.
 */
import { decodeInferResponse, encodeInferRequest, type DecodedInferResponse } from "@faceage/contracts/runner-protocol";
import type { BreakerOptions, BreakerState } from "./circuit-breaker";
import { BodyTooLarge, readCapped } from "./capped-body";
import { RunnerAttempt, type InferCall } from "./runner-attempt";
import type { Tier } from "../api/schemas";
import { RunnerUnavailable } from "./runner-unavailable";
import { TierHealth } from "./tier-health";

export { RunnerUnavailable, type RunnerFailureReason } from "./runner-unavailable";
export type { InferCall } from "./runner-attempt";

/** The tiers that use the runner, each with health of its own. */
export const RUNNER_TIERS = ["standard", "accurate"] as const satisfies readonly Tier[];
export type RunnerTier = (typeof RUNNER_TIERS)[number];

/**
 * Most bytes read from one runner answer. 32 crops answer in about 15 KB as binary tensors and
 * about 150 KB as JSON; anything far bigger is not an answer to our request.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024;

export interface RunnerClientOptions {
  baseUrl: string;
  secret: string;
  breaker: BreakerOptions;
  maxAnswerBytes?: number;
  /** Injected for service bindings or tests against a local process; defaults to global fetch. */
  fetch?: typeof fetch;
}

export interface TierHealthReport {
  breaker: BreakerState;
  consecutiveFailures: number;
  latencyEwmaMs: number | undefined;
}

export class RunnerClient {
  private readonly tiers: Record<RunnerTier, TierHealth>;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: RunnerClientOptions) {
    this.tiers = { standard: new TierHealth(options.breaker), accurate: new TierHealth(options.breaker) };
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  tier(tier: RunnerTier): TierHealth {
    return this.tiers[tier];
  }

  get health(): Record<RunnerTier, TierHealthReport> {
    const report = (h: TierHealth): TierHealthReport => ({
      breaker: h.breaker.state,
      consecutiveFailures: h.breaker.consecutiveFailures,
      latencyEwmaMs: h.latency.value,
    });
    return { standard: report(this.tiers.standard), accurate: report(this.tiers.accurate) };
  }

  /** Starts one request's use of the runner; throws RunnerUnavailable when the tier's breaker refuses. */
  begin(tier: RunnerTier, deadlineMs: number): RunnerAttempt {
    const health = this.tiers[tier];
    if (!health.breaker.tryAcquire()) {
      throw new RunnerUnavailable(
        "breaker-open",
        "runner circuit breaker is open",
        health.breaker.retryInMs || this.options.breaker.openMs,
      );
    }
    health.noteAttempt();
    return new RunnerAttempt(
      (call, signal) => this.send(call, signal),
      {
        success: (ms) => {
          health.breaker.onSuccess();
          health.latency.observe(ms);
        },
        failure: (reason, ms) => {
          health.latency.observe(ms);
          for (const [name, h] of Object.entries(this.tiers)) {
            if (name === tier || reason !== "timeout") h.breaker.onFailure();
          }
        },
      },
      deadlineMs,
    );
  }

  /** One infer call: POST, capped read, decode, validate. Throws RunnerUnavailable. */
  private async send(call: InferCall, signal: AbortSignal): Promise<DecodedInferResponse> {
    const request = encodeInferRequest(call.model, call.crops, call.shape, { outputs: call.outputs, binary: true });
    let response: Response;
    let bytes: Uint8Array;
    try {
      response = await this.fetchImpl(this.options.baseUrl.replace(/\/+$/, "") + request.path, {
        method: "POST",
        body: request.body,
        headers: { ...request.headers, authorization: `Bearer ${this.options.secret}` },
        signal,
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new RunnerUnavailable("http", `runner answered ${response.status}`);
      }
      // The body can still be streaming when the deadline passes; the same signal covers it.
      bytes = await readCapped(response, this.options.maxAnswerBytes ?? MAX_ANSWER_BYTES);
    } catch (err) {
      if (err instanceof RunnerUnavailable) throw err;
      if (signal.aborted) {
        const timedOut = (signal.reason as { name?: unknown } | undefined)?.name === "TimeoutError";
        throw timedOut
          ? new RunnerUnavailable("timeout", "no answer within the deadline")
          : new RunnerUnavailable("cancelled", "call abandoned");
      }
      if (err instanceof BodyTooLarge) throw new RunnerUnavailable("invalid-response", `runner answer is too large (${err.message})`);
      throw new RunnerUnavailable("network", "runner unreachable");
    }
    try {
      const decoded = decodeInferResponse(bytes, response.headers);
      call.validate?.(decoded);
      return decoded;
    } catch {
      throw new RunnerUnavailable("invalid-response", "runner answer is not a valid inference response");
    }
  }
}

const clients = new Map<string, RunnerClient>();

/** The isolate's client for a runner URL (its tiers' health is kept across requests). */
export function runnerClientFor(options: RunnerClientOptions): RunnerClient {
  const key = [options.baseUrl, options.secret, options.breaker.failureThreshold, options.breaker.openMs].join("\n");
  let client = clients.get(key);
  if (!client) {
    client = new RunnerClient(options);
    clients.set(key, client);
  }
  return client;
}
