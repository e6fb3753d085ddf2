/** Prometheus metrics, on a registry of their own (not prom-client's global one). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type ErrorReason =
  | "bad_request"
  | "unauthorized"
  | "not_found"
  | "too_large"
  | "queue_full"
  | "shutting_down"
  | "session_unavailable"
  | "internal";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `sessionStates`: each model's name and whether its session runs, read at scrape time. */
export function createMetrics(sessionStates: () => Iterable<[string, boolean]> = () => []) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "runner_process_" });
  return {
    registry,
    queueDepth: new Gauge({
      name: "runner_queue_depth",
      help: "Requests waiting for a model run",
      labelNames: ["model"] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: "runner_batch_size",
      help: "Face crops per model run",
      labelNames: ["model"] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    batchRequests: new Histogram({
      name: "runner_batch_requests",
      help: "Requests combined into one model run",
      labelNames: ["model"] as const,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    queueWait: new Histogram({
      name: "runner_queue_wait_seconds",
      help: "Time a request waited in the queue before its batch ran",
      labelNames: ["model"] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    inference: new Histogram({
      name: "runner_inference_seconds",
      help: "Duration of one model run (one batch)",
      labelNames: ["model", "provider"] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    requestDuration: new Histogram({
      name: "runner_http_request_duration_seconds",
      help: "HTTP request latency, from arrival to response",
      labelNames: ["endpoint", "status"] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    faces: new Counter({
      name: "runner_faces_total",
      help: "Face crops inferred",
      labelNames: ["model"] as const,
      registers: [registry],
    }),
    cancelled: new Counter({
      name: "runner_cancelled_total",
      help: "Requests whose caller went away: dropped from the queue before their run (stage=queued), or whose rows were discarded (stage=running)",
      labelNames: ["model", "stage"] as const,
      registers: [registry],
    }),
    sessionRestarts: new Counter({
      name: "runner_session_restarts_total",
      help: "Restarts of a dead model session, by outcome",
      labelNames: ["model", "outcome"] as const,
      registers: [registry],
    }),
    sessionUp: new Gauge({
      name: "runner_session_up",
      help: "1 while the model's session runs, 0 while it is being restarted",
      labelNames: ["model"] as const,
      registers: [registry],
      collect() {
        for (const [model, up] of sessionStates()) this.set({ model }, up ? 1 : 0);
      },
    }),
    errors: new Counter({
      name: "runner_errors_total",
      help: "Requests answered with an error, by reason",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
  };
}

export type RunnerMetrics = ReturnType<typeof createMetrics>;
