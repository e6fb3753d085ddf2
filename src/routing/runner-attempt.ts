/**
 * One request's use of the runner. A request may fan out into several runner calls (two
 * attributes, and crops split into RUNNER_MAX_BATCH chunks: 20 faces with flip-averaging are
 * four calls), but it is one trial of the runner: one breaker permit (so a half-open probe covers
 * all of its calls), one deadline for all of them, and one outcome, reported once. Without this,
 * one 20-face request whose calls all failed counted as four consecutive failures and opened the
 * breaker for everyone on its own.
 *
 * When the first call fails, the siblings still in flight are aborted: the runner sees their
 * connections close and drops their queued work instead of computing answers nobody reads.
 */
import type { DecodedInferResponse } from "@faceage/contracts/runner-protocol";
import { RunnerUnavailable, type RunnerFailureReason } from "./runner-unavailable";

export interface InferCall {
  model: string;
  /** N aligned uint8 crops, concatenated row-major (e.g. NHWC). */
  crops: Uint8Array;
  shape: number[];
  outputs: string[];
  /** Throws when the runner's answer is not usable (wrong shape, NaN): counts as a failure. */
  validate?: (response: DecodedInferResponse) => void;
}

/** Sends one call; throws RunnerUnavailable, with reason `timeout` or `cancelled` once `signal` aborts. */
export type SendCall = (call: InferCall, signal: AbortSignal) => Promise<DecodedInferResponse>;

/** Where the attempt's single outcome goes (the tier's breaker and latency average). */
export interface AttemptOutcome {
  success(latencyMs: number): void;
  /** `latencyMs` is the deadline for a timeout: the runner took at least that long. */
  failure(reason: RunnerFailureReason, latencyMs: number): void;
}

export class RunnerAttempt {
  private settled = false;
  private readonly started: number;
  private readonly abandon = new AbortController();
  readonly signal: AbortSignal;

  constructor(
    private readonly send: SendCall,
    private readonly outcome: AttemptOutcome,
    readonly deadlineMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
    this.signal = AbortSignal.any([this.abandon.signal, AbortSignal.timeout(deadlineMs)]);
  }

  async infer(call: InferCall): Promise<DecodedInferResponse> {
    try {
      return await this.send(call, this.signal);
    } catch (err) {
      const failure = err instanceof RunnerUnavailable ? err : new RunnerUnavailable("network", "runner call failed");
      this.fail(failure);
      throw failure;
    }
  }

  /** Every call of the request succeeded and its answers were usable. */
  succeed(): void {
    if (this.settled) return;
    this.settled = true;
    this.outcome.success(this.now() - this.started);
  }

  /** Ends the attempt without a verdict (the request failed for a reason of its own); aborts what is left. */
  close(): void {
    this.settled = true;
    this.abandon.abort(new DOMException("attempt closed", "AbortError"));
  }

  private fail(err: RunnerUnavailable): void {
    if (this.settled) return;
    this.settled = true;
    this.abandon.abort(new DOMException("a sibling call failed", "AbortError"));
    // Cancelled is not the runner's fault: nothing to learn from it.
    if (err.reason === "cancelled") return;
    this.outcome.failure(err.reason, err.reason === "timeout" ? this.deadlineMs : this.now() - this.started);
  }
}
