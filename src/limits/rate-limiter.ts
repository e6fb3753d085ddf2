/**
 * One Durable Object per caller (an API key's hash, or a client IP for anonymous calls).
 * A Durable Object runs one request at a time and this class never awaits between reading and
 * updating its counters, so counting is exact under any concurrency: N requests pass, N+1 do not.
 *
 * Windows are fixed and aligned to the epoch (a UTC minute, a UTC day), which makes the reset
 * time exact and the state tiny: per policy the window start and a count. State is persisted
 * (SQLite-backed storage), so quotas survive isolate restarts and evictions.
 */
import { DurableObject } from "cloudflare:workers";
import type { RatePolicy } from "./plans";

export interface PolicyState {
  name: string;
  quota: number;
  windowSeconds: number;
  /** Requests left in the current window after this decision. */
  remaining: number;
  /** Seconds until the current window ends. */
  resetSeconds: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Seconds the caller should wait; 0 when allowed. */
  retryAfterSeconds: number;
  policies: PolicyState[];
}

interface WindowCount {
  start: number;
  end: number;
  count: number;
}

const STORAGE_KEY = "windows";

export class RateLimiter extends DurableObject<Env> {
  private windows = new Map<string, WindowCount>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const saved = await ctx.storage.get<Record<string, WindowCount>>(STORAGE_KEY);
      if (saved) this.windows = new Map(Object.entries(saved));
    });
  }

  /**
   * Charges `cost` requests against every policy at once, or none of them: a request refused by
   * one window does not use up another. `cost` 0 only reports the state (headers on free calls).
   */
  consume(policies: RatePolicy[], cost: number, now: number = Date.now()): RateDecision {
    const current = policies.map((p) => {
      const windowMs = p.windowSeconds * 1000;
      const start = Math.floor(now / windowMs) * windowMs;
      const saved = this.windows.get(p.name);
      const count = saved && saved.start === start ? saved.count : 0;
      const resetSeconds = Math.max(1, Math.ceil((start + windowMs - now) / 1000));
      return { policy: p, start, count, resetSeconds };
    });
    const refused = current.filter((c) => c.count + cost > c.policy.quota);
    const allowed = refused.length === 0;
    if (allowed && cost > 0) {
      for (const c of current) {
        c.count += cost;
        this.windows.set(c.policy.name, { start: c.start, end: c.start + c.policy.windowSeconds * 1000, count: c.count });
      }
      // Not awaited on purpose: the output gate holds our reply until the write is durable,
      // and no other request can interleave between the check above and this update.
      void this.ctx.storage.put(STORAGE_KEY, Object.fromEntries(this.windows));
      void this.scheduleCleanup(current.map((c) => c.start + c.policy.windowSeconds * 1000));
    }
    return {
      allowed,
      retryAfterSeconds: allowed ? 0 : Math.max(...refused.map((c) => c.resetSeconds)),
      policies: current.map((c) => ({
        name: c.policy.name,
        quota: c.policy.quota,
        windowSeconds: c.policy.windowSeconds,
        remaining: Math.max(0, c.policy.quota - c.count),
        resetSeconds: c.resetSeconds,
      })),
    };
  }

  /** Forget everything once every window has ended, so idle callers (many IPs) cost no storage. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const latestEnd = Math.max(0, ...[...this.windows.values()].map((w) => w.end));
    if (latestEnd <= now) {
      this.windows.clear();
      await this.ctx.storage.deleteAll();
    } else {
      await this.ctx.storage.setAlarm(latestEnd + 1000);
    }
  }

  private async scheduleCleanup(windowEnds: number[]): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Math.max(...windowEnds) + 1000);
    }
  }
}
