/**
 * Keeps one model's session running: when its worker thread dies, a new session is started (the
 * weights read and checked again, as at start-up) after an exponential back-off, for as long as
 * the runner lives. Meanwhile the model is not ready (readiness 503, infer 503 with Retry-After,
 * so callers fall back instead of queueing for a session that is not there). After
 * `maxFailures` restarts in a row have failed, the model is no longer live: liveness fails, so
 * an orchestrator replaces the process (a lost GPU context often needs a new process); attempts
 * go on at the longest back-off in case none does.
 */
import type { Logger } from "../log/index.js";
import { SessionUnavailableError, type Session } from "./session.js";

export interface RestartPolicy {
  /** Wait before the first restart; doubled after each failed one. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Failed restarts in a row after which the model counts as not live. */
  maxFailures: number;
}

export type SessionState = "running" | "restarting" | "closed";

export class SessionSupervisor {
  private session: Session | null = null;
  private status: SessionState = "running";
  private failedRestarts = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly name: string,
    first: Session,
    /** Starts a fresh session (reads and verifies the weights, creates the ONNX Runtime session). */
    private readonly start: () => Promise<Session>,
    private readonly policy: RestartPolicy,
    private readonly logger: Logger,
    private readonly onRestart: (outcome: "ok" | "failed") => void = () => undefined,
  ) {
    this.adopt(first);
  }

  get state(): SessionState {
    return this.status;
  }

  /** Restarts that failed in a row (0 while the session runs). */
  get consecutiveFailures(): number {
    return this.failedRestarts;
  }

  private get closed(): boolean {
    return this.status === "closed";
  }

  get live(): boolean {
    return this.failedRestarts < this.policy.maxFailures;
  }

  /** The running session; throws SessionUnavailableError while there is none. */
  current(): Session {
    if (!this.session) throw new SessionUnavailableError(`${this.name}: the model session is being restarted`);
    return this.session;
  }

  async close(): Promise<void> {
    this.status = "closed";
    clearTimeout(this.timer);
    const s = this.session;
    this.session = null;
    await s?.close();
  }

  private adopt(session: Session): void {
    this.session = session;
    this.status = "running";
    void session.died.then((reason) => {
      if (this.session !== session || this.closed) return;
      this.session = null;
      this.status = "restarting";
      this.logger.error("session worker died; restarting it", { model: this.name, reason });
      this.scheduleRestart();
    });
  }

  private scheduleRestart(): void {
    const delay = Math.min(this.policy.backoffMs * 2 ** this.failedRestarts, this.policy.maxBackoffMs);
    this.timer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    if (this.closed) return;
    let session: Session;
    try {
      session = await this.start();
    } catch (error) {
      this.failedRestarts += 1;
      this.onRestart("failed");
      this.logger.error("session restart failed", {
        model: this.name,
        attempt: this.failedRestarts,
        live: this.live,
        error: error instanceof Error ? error.message.slice(0, 300) : String(error),
      });
      if (!this.closed) this.scheduleRestart();
      return;
    }
    if (this.closed) return void (await session.close());
    const attempts = this.failedRestarts + 1;
    this.failedRestarts = 0;
    this.adopt(session);
    this.onRestart("ok");
    this.logger.info("session restarted", { model: this.name, attempts, provider: session.provider });
  }
}
