/** Prometheus metrics, on a registry of their own (not prom-client's global one). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export type ErrorReason =
  | "bad_request"
  | "unauthorized"
  | "not_found"
  | "too_large"
  | "queue_full"
  | "shutting_down"
  | "internal";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics() {
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
    errors: new Counter({
      name: "runner_errors_total",
      help: "Requests answered with an error, by reason",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
  };
}

export type RunnerMetrics = ReturnType<typeof createMetrics>;
