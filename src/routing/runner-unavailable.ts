/** Why the runner could not answer a request; the router falls back (standard) or answers 503 (accurate). */
export type RunnerFailureReason =
  | "not-configured"
  | "breaker-open"
  | "timeout"
  | "http"
  | "network"
  | "invalid-response"
  /** The call was aborted because its request gave up on the runner (a sibling call failed). */
  | "cancelled";

export class RunnerUnavailable extends Error {
  constructor(
    readonly reason: RunnerFailureReason,
    message: string,
    /** When the breaker is open: milliseconds until it lets a probe through. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "RunnerUnavailable";
  }
}
