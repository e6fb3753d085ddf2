/**
 * What an isolate has learnt about the runner for one tier: a circuit breaker, a latency EWMA and
 * the slow-runner probe schedule.
 *
 * Per tier, because the tiers have different deadlines: a call that times out at `accurate`'s 5 s
 * says nothing about whether the runner meets `standard`'s 800 ms for a one-face request, and
 * counting it against `standard` would push every `standard` caller of the isolate onto the
 * fallback. Failures that do not depend on a deadline (refused connection, 5xx, garbage) are
 * evidence about the runner itself and are shared by every tier (RunnerClient does that).
 */
import { CircuitBreaker, type BreakerOptions } from "./circuit-breaker";
import { Ewma } from "./ewma";

export type Admission = "call" | "breaker-open" | "slow";

export class TierHealth {
  readonly breaker: CircuitBreaker;
  readonly latency = new Ewma(0.2);
  /** When this tier last sent a request to the runner (its own requests only). */
  private lastAttemptAt = 0;

  constructor(
    breaker: BreakerOptions,
    private readonly now: () => number = breaker.now ?? Date.now,
  ) {
    this.breaker = new CircuitBreaker(breaker);
  }

  /**
   * Whether a request of this tier should call the runner now. With `slowAfterMs` (standard), a
   * runner whose latency EWMA is at or over `deadlineMs` is skipped, except for one probe every
   * `slowAfterMs`: the probe claims its slot here, so concurrent requests do not all probe at once,
   * and only this tier's own calls move the schedule.
   */
  admit(deadlineMs: number, slowAfterMs?: number): Admission {
    if (this.breaker.state === "open") return "breaker-open";
    const ewma = this.latency.value;
    if (slowAfterMs === undefined || ewma === undefined || ewma < deadlineMs) return "call";
    if (this.now() - this.lastAttemptAt < slowAfterMs) return "slow";
    this.lastAttemptAt = this.now();
    return "call";
  }

  /** A request of this tier is about to call the runner. */
  noteAttempt(): void {
    this.lastAttemptAt = this.now();
  }
}
