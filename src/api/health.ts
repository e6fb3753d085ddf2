/** The body of GET /healthz: the edge's state and the worker's view of the runner, per tier. */
import type { BreakerState } from "../routing/circuit-breaker";
import type { RunnerTier, TierHealthReport } from "../routing/runner-client";
import type { z } from "@hono/zod-openapi";
import type { healthSchema } from "./schemas";

const OPENNESS: Record<BreakerState, number> = { closed: 0, "half-open": 1, open: 2 };

export function healthReport(edgeReady: boolean, runner: Record<RunnerTier, TierHealthReport> | null): z.input<typeof healthSchema> {
  if (!runner) {
    return { status: "ok", edge: { ready: edgeReady }, runner: { configured: false, breaker: "closed", latency_ewma_ms: null } };
  }
  const tiers = Object.values(runner);
  const breaker = tiers.map((t) => t.breaker).reduce((a, b) => (OPENNESS[b] > OPENNESS[a] ? b : a), "closed" as BreakerState);
  const tier = (t: TierHealthReport) => ({
    breaker: t.breaker,
    consecutive_failures: t.consecutiveFailures,
    latency_ewma_ms: t.latencyEwmaMs ?? null,
  });
  return {
    status: breaker === "open" ? "degraded" : "ok",
    edge: { ready: edgeReady },
    runner: {
      configured: true,
      breaker,
      latency_ewma_ms: runner.standard.latencyEwmaMs ?? null,
      tiers: { standard: tier(runner.standard), accurate: tier(runner.accurate) },
    },
  };
}
