/**
 * The public API: a Hono app whose routes, validation and OpenAPI document come from one set of
 * zod schemas (./schemas, ./routes). Construction takes the model catalog and the inference
 * backend, so the same app runs the bundled models in workerd and other catalogs in tests.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import type { InferenceBackend } from "../backends/session";
import { AnalysisCache } from "../cache/analysis-cache";
import type { ModelCatalog } from "../models/catalog";
import { EdgeModels } from "../inference/edge-models";
import { MAX_BATCH } from "../inference/model";
import { runnerClientFor, type RunnerClient } from "../routing/runner-client";
import { TieredRouter } from "../routing/router";
import { answerAnalyzeRequest, type AnalyzerDeps } from "./analyzer";
import { BatchOutcomes } from "./batch";
import { docsPage } from "./docs";
import { healthReport } from "./health";
import { requestLog, type LogVariables } from "./log";
import { chargeExtra, meter, MeteringUnavailable, type MeterVariables } from "./meter";
import { ApiProblem, problemResponse } from "./problem";
import { analyzeRoute, batchRoute, healthRoute, modelsRoute } from "./routes";
import { settingsOf, type Settings } from "./settings";
import { readBatchImages, readSingleImage } from "./upload";

export interface AppOptions {
  catalog: ModelCatalog;
  backend: InferenceBackend;
  /** The Cache API cache to use; undefined uses `caches.default`, null disables caching. */
  cache?: () => Cache | null;
}

export type AppEnv = { Bindings: Env; Variables: MeterVariables & LogVariables };

export function createApp(options: AppOptions) {
  const { catalog } = options;
  const edge = new EdgeModels(catalog, options.backend);
  const cacheOf = options.cache ?? (() => (caches as unknown as { default: Cache }).default);

  const runnerOf = (s: Settings): RunnerClient | null =>
    s.runner ? runnerClientFor({ baseUrl: s.runner.url, secret: s.runner.secret, breaker: s.breaker }) : null;

  const analyzerDeps = (env: Env, ctx: { waitUntil(p: Promise<unknown>): void }): AnalyzerDeps => {
    const s = settingsOf(env);
    const cache = cacheOf();
    return {
      catalog,
      edge,
      router: new TieredRouter(catalog, edge, runnerOf(s), {
        standardDeadlineMs: s.standardDeadlineMs,
        accurateDeadlineMs: s.accurateDeadlineMs,
        runnerMaxBatch: s.runner?.maxBatch ?? MAX_BATCH,
        slowRunnerProbeMs: s.slowRunnerProbeMs,
      }),
      // CACHE_TTL_S = 0 turns the answer cache off.
      cache: cache && s.cacheTtlSeconds > 0 ? new AnalysisCache(cache, s.cacheTtlSeconds) : null,
      maxPixels: s.maxPixels,
      minorRisk: s.minorRisk,
      waitUntil: (p) => ctx.waitUntil(p.catch(() => undefined)),
    };
  };

  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        // Names and reasons only: zod's messages describe the rule, never the value sent.
        const errors = result.error.issues.map((i) => ({ name: String(i.path[0] ?? "query"), reason: i.message }));
        return problemResponse("bad-request", "Some query parameters are invalid.", { errors });
      }
    },
  });

  app.use("*", requestLog());
  app.use(
    "/v1/*",
    cors({
      // A public API authenticated by bearer keys (no cookies): any origin may call it.
      origin: "*",
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type"],
      exposeHeaders: ["RateLimit", "RateLimit-Policy", "Retry-After"],
      maxAge: 86400,
    }),
  );
  app.use(
    "/v1/*",
    meter((c) => (c.req.method === "GET" ? 0 : 1)),
  );

  app.openapi(analyzeRoute, async (c) => {
    const query = c.req.valid("query");
    const s = settingsOf(c.env);
    const bytes = await readSingleImage(c.req.raw, s.maxImageBytes);
    let fallback: string | undefined;
    const deps = { ...analyzerDeps(c.env, c.executionCtx), onFallback: (reason: string) => (fallback = reason) };
    const analysis = await answerAnalyzeRequest(bytes, query, deps);
    c.set("analysis", { route: analysis.route, cached: analysis.cached, faces: analysis.faces.length, fallback });
    return c.json(analysis, 200);
  });

  app.openapi(batchRoute, async (c) => {
    const started = Date.now();
    const query = c.req.valid("query");
    const s = settingsOf(c.env);
    const plan = s.plans[c.get("caller").plan];
    const items: (Blob | ApiProblem | null)[] = await readBatchImages(c.req.raw, s.maxBatchBytes, s.maxImageBytes, plan.max_batch);
    await chargeExtra(c, items.length - 1);
    const outcomes = new BatchOutcomes();
    const deps = { ...analyzerDeps(c.env, c.executionCtx), onFallback: (reason: string) => outcomes.fallback(reason) };
    // One at a time, each image's bytes read only for its turn and let go after it: a worker has
    // 128 MB, and every image may use up to the decode budget.
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      items[index] = null;
      if (item instanceof ApiProblem || item === null) {
        if (item) outcomes.problem(index, item);
        continue;
      }
      try {
        outcomes.analysis(index, await answerAnalyzeRequest(new Uint8Array(await item.arrayBuffer()), query, deps));
      } catch (err) {
        if (!(err instanceof ApiProblem)) throw err;
        outcomes.problem(index, err);
      }
    }
    c.set("analysis", outcomes.logSummary());
    return c.json({ results: outcomes.results, timing_ms: Date.now() - started }, 200);
  });

  app.openapi(modelsRoute, (c) => {
    const cards = [
      ...Object.values(catalog.edge).map((e) => ({ card: e.card, served_by: "edge" as const })),
      ...Object.values(catalog.runner).map((card) => ({ card, served_by: "runner" as const })),
    ];
    return c.json(
      {
        detector: { name: catalog.detector.name, version: catalog.detector.version, source: catalog.detector.source },
        models: cards.map(({ card, served_by }) => ({
          name: card.name,
          version: card.version,
          task: card.task,
          served_by,
          sha256: card.sha256,
          params: card.params,
          ...(card.architecture?.ensemble
            ? { ensemble: card.architecture.ensemble.map(({ checkpoint, width }) => ({ checkpoint, width })) }
            : {}),
          input: card.input,
          labels: card.labels,
          calibration: card.calibration,
          alignment: { framing: card.alignment.framing, size: card.alignment.size },
          tiers: card.serving?.tiers ?? {},
          metrics: card.metrics,
          data: card.data,
          licence: card.licence,
        })),
      },
      200,
    );
  });

  app.openapi(healthRoute, (c) => {
    const runner = runnerOf(settingsOf(c.env));
    return c.json(healthReport(edge.warm, runner?.health ?? null), 200);
  });

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key from `npm run keys -- create`. Without one, calls use the free plan, limited per client IP.",
  });
  const info = {
    title: "Face age & attractiveness API (DLDL-v2)",
    version: "1.0.0",
    description: "Estimates age and attractiveness (1-10) of the faces in a photo. Errors are RFC 9457 problem documents.",
  };
  app.doc31("/openapi.json", { openapi: "3.1.0", info });
  let docsHtml: string | undefined;
  app.get("/docs", (c) => {
    docsHtml ??= docsPage(app.getOpenAPI31Document({ openapi: "3.1.0", info }) as unknown as Parameters<typeof docsPage>[0]);
    return c.html(docsHtml);
  });

  app.notFound(() => problemResponse("not-found", "No such endpoint."));
  app.onError((err, c) => {
    if (err instanceof MeteringUnavailable) c.set("error", err.cause);
    if (err instanceof ApiProblem) return problemResponse(err.kind, err.detail, { errors: err.extra.errors, headers: err.extra.headers });
    if (err instanceof HTTPException && err.status < 500) {
      const kind = err.status === 413 ? "payload-too-large" : err.status === 415 ? "unsupported-media-type" : "bad-request";
      return problemResponse(kind);
    }
    // The error's name only: messages of lower layers could quote input.
    c.set("error", err instanceof Error ? `${err.name}: ${err.message.slice(0, 200)}` : "unknown");
    return problemResponse("internal", "Something went wrong on our side.");
  });

  return app;
}
