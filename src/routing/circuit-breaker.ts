/**
 * A circuit breaker for the GPU runner. After `failureThreshold` consecutive failures it opens
 * and callers stop waiting on a runner that is down; after `openMs` it lets one probe through
 * (half-open): success closes it, failure opens it again for another `openMs`.
 *
 * State is per isolate, like every Workers in-memory state: each isolate learns on its own,
 * which costs a few failed calls per isolate and needs no coordination on the hot path.
 */
export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerOptions {
  failureThreshold: number;
  openMs: number;
  now?: () => number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | null = null;
  private probeInFlight = false;
  private probeStartedAt = 0;
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.openedAt === null) return "closed";
    return this.now() - this.openedAt >= this.options.openMs ? "half-open" : "open";
  }

  /** Failures since the last success (for /healthz). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Milliseconds until an open breaker lets a probe through; 0 when it is not open. */
  get retryInMs(): number {
    return this.openedAt === null ? 0 : Math.max(0, this.openedAt + this.options.openMs - this.now());
  }

  /** Whether a call may go to the runner now. In half-open state only one probe at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    // A probe that never reported back (its request was cancelled when the response went out)
    // stops blocking after another open period, or the breaker would stay half-open for good.
    if (state === "open" || (this.probeInFlight && this.now() - this.probeStartedAt < this.options.openMs)) return false;
    this.probeInFlight = true;
    this.probeStartedAt = this.now();
    return true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.openedAt = null;
    this.probeInFlight = false;
  }

  onFailure(): void {
    this.failures += 1;
    if (this.probeInFlight || this.failures >= this.options.failureThreshold) this.openedAt = this.now();
    this.probeInFlight = false;
  }
}
