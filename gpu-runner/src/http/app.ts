/**
 * The runner's HTTP surface: KServe v2 / Open Inference Protocol endpoints (health, model
 * metadata, infer with JSON and binary tensors), /metrics, bearer auth and body limits. Model
 * runs go through each model's DynamicBatcher; this layer only validates, queues and encodes.
 */
import { Hono, type Context } from "hono";
import { ProtocolError, decodeRequest, encodeResponse, type InferRequest, type Tensor } from "@faceage/contracts/runner-protocol";
import { BatchTooLargeError, CancelledError, QueueFullError, ShuttingDownError, type DynamicBatcher } from "../batching/index.js";
import type { Logger } from "../log/index.js";
import type { ErrorReason, RunnerMetrics } from "../metrics/index.js";
import { SessionUnavailableError, type LoadedModel } from "../models/index.js";
import { bearerMatcher } from "./auth.js";
import { readBodyWithLimit } from "./body.js";
import { problem } from "./problem.js";

export interface ServedModel extends LoadedModel {
  batcher: DynamicBatcher;
}

export interface RunnerState {
  /** Set on SIGTERM/SIGINT: not ready, new infer requests get 503, queued ones still finish. */
  draining: boolean;
  /** HTTP requests being handled right now. */
  inFlight: number;
}

export interface AppOptions {
  models: Map<string, ServedModel>;
  metrics: RunnerMetrics;
  logger: Logger;
  state: RunnerState;
  secret: string | undefined;
  maxBodyBytes: number;
  maxBatch: number;
  retryAfterS: number;
  /** Test-only endpoints (RUNNER_TEST_HOOKS=1). */
  testHooks?: boolean;
  accessLog: boolean;
  serverVersion: string;
}

type Env = { Variables: { rows?: number; model?: string } };

function endpointOf(path: string): string {
  if (path.startsWith("/v2/health/")) return "health";
  if (path === "/metrics") return "metrics";
  if (path.endsWith("/infer")) return "infer";
  if (path.startsWith("/v2")) return "metadata";
  return "other";
}

function shapeForMetadata(itemShape: number[]): number[] {
  return [-1, ...itemShape];
}

export function createApp(options: AppOptions): Hono<Env> {
  const { models, metrics, logger, state } = options;
  const app = new Hono<Env>();
  const authorized = options.secret ? bearerMatcher(options.secret) : () => true;

  const fail = (reason: ErrorReason, status: number, detail: string, headers?: Record<string, string>) => {
    metrics.errors.inc({ reason });
    return problem(status, detail, headers);
  };

  // Access log and latency: outermost, so it sees every status including auth and size refusals.
  app.use("*", async (c, next) => {
    const started = performance.now();
    state.inFlight++;
    try {
      await next();
    } finally {
      state.inFlight--;
      const seconds = (performance.now() - started) / 1000;
      const status = c.res.status;
      const endpoint = endpointOf(c.req.path);
      metrics.requestDuration.observe({ endpoint, status: String(status) }, seconds);
      if (state.draining) c.res.headers.set("connection", "close");
      if (status >= 500 || (options.accessLog && endpoint !== "health" && endpoint !== "metrics")) {
        const log = status >= 500 ? logger.warn : logger.info;
        log("request", {
          method: c.req.method,
          endpoint,
          model: c.get("model"),
          rows: c.get("rows"),
          status,
          ms: Math.round(seconds * 10_000) / 10,
        });
      }
    }
  });

  // Not live once a model's session cannot be restored: only a new process can help then.
  app.get("/v2/health/live", (c) => {
    const lost = [...models.values()].filter((m) => !m.live()).map((m) => m.card.name);
    if (lost.length > 0) return problem(503, `model sessions cannot be restored: ${lost.join(", ")}`);
    return c.json({ live: true });
  });
  app.get("/v2/health/ready", (c) => {
    if (state.draining) return fail("shutting_down", 503, "the runner is shutting down");
    const down = [...models.values()].filter((m) => !m.healthy()).map((m) => m.card.name);
    if (down.length > 0) return fail("internal", 503, `model sessions not running: ${down.join(", ")}`);
    return c.json({ ready: true });
  });

  // Everything except the health probes needs the bearer secret.
  app.use("*", async (c, next) => {
    if (c.req.path.startsWith("/v2/health/")) return next();
    if (!authorized(c.req.header("authorization"))) {
      return fail("unauthorized", 401, "a valid bearer secret is required", { "www-authenticate": 'Bearer realm="gpu-runner"' });
    }
    return next();
  });

  app.get("/metrics", async (c) => {
    const body = await metrics.registry.metrics();
    return c.body(body, 200, { "content-type": metrics.registry.contentType });
  });

  app.get("/v2", (c) => c.json({ name: "dldl-gpu-runner", version: options.serverVersion, extensions: ["binary_tensor_data"] }));

  const lookup = (c: Context<Env>): ServedModel | Response => {
    const name = c.req.param("name") ?? "";
    const model = models.get(name);
    if (!model) return fail("not_found", 404, `no model named '${name.slice(0, 100)}'`);
    const version = c.req.param("version");
    if (version !== undefined && version !== model.card.version) {
      return fail("not_found", 404, `model '${name}' has no version '${version.slice(0, 100)}'`);
    }
    c.set("model", name);
    return model;
  };

  const metadata = (c: Context<Env>) => {
    const model = lookup(c);
    if (model instanceof Response) return model;
    const { card } = model;
    return c.json({
      name: card.name,
      versions: [card.version],
      platform: "onnxruntime_onnx",
      inputs: [{ name: card.input.name, datatype: "UINT8", shape: shapeForMetadata(model.itemShape) }],
      outputs: [card.outputs.probs, card.outputs.value, card.outputs.scoremap].map((o) => ({
        name: o.name,
        datatype: "FP32",
        shape: o.shape.map((d) => (typeof d === "number" ? d : -1)),
      })),
      // Extensions beyond the KServe schema: what the edge and operators need to know.
      parameters: {
        execution_provider: model.provider,
        task: card.task,
        sha256: card.sha256,
        layout: card.input.layout,
        max_batch_size: options.maxBatch,
      },
    });
  };
  app.get("/v2/models/:name", metadata);
  app.get("/v2/models/:name/versions/:version", metadata);

  const ready = (c: Context<Env>) => {
    const model = lookup(c);
    if (model instanceof Response) return model;
    if (state.draining) return fail("shutting_down", 503, "the runner is shutting down");
    if (!model.healthy()) return fail("session_unavailable", 503, `model '${model.card.name}' has no running session`);
    return c.json({ name: model.card.name, ready: true });
  };
  app.get("/v2/models/:name/ready", ready);
  app.get("/v2/models/:name/versions/:version/ready", ready);

  const infer = async (c: Context<Env>) => {
    const model = lookup(c);
    if (model instanceof Response) return model;
    if (state.draining) {
      return fail("shutting_down", 503, "the runner is shutting down", { "retry-after": String(options.retryAfterS) });
    }
    if (!model.healthy()) {
      return fail("session_unavailable", 503, `model '${model.card.name}' is being restarted`, {
        "retry-after": String(options.retryAfterS),
      });
    }
    const read = await readBodyWithLimit(c.req.raw, options.maxBodyBytes, 4 * options.maxBodyBytes);
    if (!read.ok) {
      return fail("too_large", 413, `the request body exceeds ${options.maxBodyBytes} bytes`, read.drained ? {} : { connection: "close" });
    }
    let request: InferRequest;
    try {
      request = decodeRequest(read.body, c.req.raw.headers);
    } catch (error) {
      if (error instanceof ProtocolError) return fail("bad_request", 400, error.message);
      throw error;
    }
    const invalid = validateRequest(request, model, options.maxBatch);
    if (invalid) return fail("bad_request", 400, invalid);

    const input = request.inputs[0];
    const n = input.shape[0];
    c.set("rows", n);
    let outputs;
    try {
      // The request's signal aborts when its client disconnects: its work leaves the queue.
      outputs = await model.batcher.submit(input.data as Uint8Array, n, c.req.raw.signal);
    } catch (error) {
      // Nobody reads this answer; the status is for the access log and the latency metric.
      if (error instanceof CancelledError) return problem(499, error.message);
      if (error instanceof SessionUnavailableError) {
        return fail("session_unavailable", 503, error.message, { "retry-after": String(options.retryAfterS) });
      }
      if (error instanceof QueueFullError) {
        return fail("queue_full", 503, error.message, { "retry-after": String(options.retryAfterS) });
      }
      if (error instanceof ShuttingDownError) {
        return fail("shutting_down", 503, error.message, { "retry-after": String(options.retryAfterS) });
      }
      if (error instanceof BatchTooLargeError) return fail("bad_request", 400, error.message);
      throw error;
    }
    metrics.faces.inc({ model: model.card.name }, n);

    const wanted = request.outputs ?? model.outputNames.map((name) => ({ name, binary: request.binaryOutputs ?? false }));
    const tensors: Tensor[] = wanted.map(({ name }) => ({
      name,
      datatype: "FP32",
      shape: outputs[name].dims,
      data: outputs[name].data as Float32Array,
    }));
    const encoded = encodeResponse(
      { model_name: model.card.name, model_version: model.card.version, id: request.id, outputs: tensors },
      new Set(wanted.filter((o) => o.binary).map((o) => o.name)),
    );
    return new Response(encoded.body, { status: 200, headers: encoded.headers });
  };
  app.post("/v2/models/:name/infer", infer);
  app.post("/v2/models/:name/versions/:version/infer", infer);

  if (options.testHooks) {
    // Test-only: kills a model's session thread, as an uncaught error or a native crash would.
    app.post("/v2/test/models/:name/crash-session", (c) => {
      const model = lookup(c);
      if (model instanceof Response) return model;
      model.crash();
      return c.json({ crashed: model.card.name }, 202);
    });
  }

  app.notFound(() => fail("not_found", 404, "no such endpoint"));
  app.onError((error) => {
    logger.error("unhandled error", { error: error instanceof Error ? error.message.slice(0, 300) : "unknown" });
    return fail("internal", 500, "the runner failed to process the request");
  });
  return app;
}

/** Checks an infer request against the model's card; returns the problem, or undefined when valid. */
export function validateRequest(request: InferRequest, model: LoadedModel, maxBatch: number): string | undefined {
  const { card } = model;
  if (request.inputs.length !== 1) return `model '${card.name}' takes exactly one input ('${card.input.name}')`;
  const input = request.inputs[0];
  if (input.name !== card.input.name) return `model '${card.name}' has no input '${input.name}' (expects '${card.input.name}')`;
  if (input.datatype !== "UINT8") return `input '${input.name}' must be UINT8, got ${input.datatype}`;
  const expected = model.itemShape;
  const shape = input.shape;
  if (shape.length !== expected.length + 1 || expected.some((d, i) => shape[i + 1] !== d)) {
    return `input '${input.name}' must have shape [N,${expected.join(",")}] (${card.input.layout}), got [${shape.join(",")}]`;
  }
  if (shape[0] < 1 || shape[0] > maxBatch) return `input '${input.name}' must carry 1 to ${maxBatch} crops, got ${shape[0]}`;
  const seen = new Set<string>();
  for (const o of request.outputs ?? []) {
    if (!model.outputNames.includes(o.name)) {
      return `model '${card.name}' has no output '${o.name}' (outputs: ${model.outputNames.join(", ")})`;
    }
    if (seen.has(o.name)) return `output '${o.name}' is requested twice`;
    seen.add(o.name);
  }
  return undefined;
}
