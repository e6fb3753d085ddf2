/**
 * Assembles the runner: models from their cards, one DynamicBatcher per model, metrics, the
 * HTTP app and server, and a graceful shutdown that lets queued and in-flight work finish.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { DynamicBatcher } from "./batching/index.js";
import type { RunnerConfig } from "./config/index.js";
import { createApp, type RunnerState, type ServedModel } from "./http/app.js";
import type { Logger } from "./log/index.js";
import { createMetrics } from "./metrics/index.js";
import { loadModels } from "./models/index.js";

export const RUNNER_VERSION = "0.1.0";

export interface Runner {
  server: Server;
  port: number;
  models: Map<string, ServedModel>;
  /** Stops accepting work, finishes what was accepted, closes the server and the sessions. */
  shutdown(reason: string): Promise<void>;
}

export async function startRunner(config: RunnerConfig, logger: Logger): Promise<Runner> {
  const models = new Map<string, ServedModel>();
  const metrics = createMetrics(() => [...models].map(([name, m]) => [name, m.healthy()] as [string, boolean]));
  const loaded = await loadModels({
    modelsDir: config.modelsDir,
    names: config.models,
    providers: config.providers,
    intraOpThreads: config.intraOpThreads,
    intraOpSpinning: config.intraOpSpinning,
    logger,
    restart: config.restart,
    onRestart: (model, outcome) => metrics.sessionRestarts.inc({ model, outcome }),
  });

  for (const [name, model] of loaded) {
    const labels = { model: name };
    const batcher = new DynamicBatcher({
      ...config.batching,
      run: (input, n) => model.run(input, n),
      onBatch: ({ rows, requests, runSeconds }) => {
        metrics.batchSize.observe(labels, rows);
        metrics.batchRequests.observe(labels, requests);
        metrics.inference.observe({ model: name, provider: model.provider }, runSeconds);
      },
      onQueueWait: (s) => metrics.queueWait.observe(labels, s),
      onDepth: (d) => metrics.queueDepth.set(labels, d),
      onCancelled: (stage) => metrics.cancelled.inc({ model: name, stage }),
    });
    metrics.queueDepth.set(labels, 0);
    metrics.cancelled.inc({ model: name, stage: "queued" }, 0);
    models.set(name, { ...model, batcher });
  }

  const state: RunnerState = { draining: false, inFlight: 0 };
  const app = createApp({
    models,
    metrics,
    logger,
    state,
    secret: config.secret,
    maxBodyBytes: config.maxBodyBytes,
    maxBatch: config.batching.maxBatch,
    retryAfterS: config.retryAfterS,
    testHooks: config.testHooks,
    accessLog: config.accessLog,
    serverVersion: RUNNER_VERSION,
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolve(s as Server)) as Server;
    s.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  logger.info("runner listening", {
    port,
    host: config.host,
    models: [...models.keys()].join(","),
    providers: [...new Set([...models.values()].map((m) => m.provider))].join(","),
    dynamic_batching: config.batching.dynamic,
    window_ms: config.batching.windowMs,
    max_batch: config.batching.maxBatch,
    max_queue: config.batching.maxQueue,
    auth: config.secret ? "bearer" : "none (RUNNER_INSECURE)",
    access_log: config.accessLog,
    ...(config.testHooks ? { test_hooks: true } : {}),
  });

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    shuttingDown ??= (async () => {
      logger.info("shutting down", { reason, queued: [...models.values()].reduce((s, m) => s + m.batcher.depth, 0) });
      state.draining = true;
      // Stop listening at once; connections already open may still deliver requests, which
      // now get 503, while everything already queued runs to completion.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...models.values()].map((m) => m.batcher.drain()));
      while (state.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
      server.closeIdleConnections();
      await closed;
      await Promise.all([...models.values()].map((m) => m.close()));
      logger.info("shut down", { reason });
    })();
    return shuttingDown;
  };

  return { server, port, models, shutdown };
}
