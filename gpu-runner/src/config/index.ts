/**
 * The runner's configuration, read once from the environment and validated: a bad value stops
 * the process at start instead of surfacing as odd behaviour under load.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export const EXECUTION_PROVIDERS = ["cuda", "webgpu", "cpu"] as const;
export type ExecutionProvider = (typeof EXECUTION_PROVIDERS)[number];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const int = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);
const flag = z
  .enum(["0", "1", "true", "false", ""])
  .default("0")
  .transform((v) => v === "1" || v === "true");

const envSchema = z
  .object({
    PORT: int(8081, 0, 65535),
    HOST: z.string().default("0.0.0.0"),
    MODELS: z.string().default(path.join(repoRoot, "models")),
    /** Comma-separated model names to serve; empty serves every card in MODELS. */
    RUNNER_MODELS: z.string().default(""),
    RUNNER_PROVIDERS: z
      .string()
      .default("cuda,webgpu,cpu")
      .transform((s) =>
        s
          .split(",")
          .map((p) => p.trim().toLowerCase())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(EXECUTION_PROVIDERS)).min(1)),
    /** ONNX Runtime intra-op threads for the CPU provider; 0 lets ONNX Runtime decide. */
    RUNNER_INTRA_OP_THREADS: int(0, 0, 256),
    /**
     * 1: ONNX Runtime's CPU threads spin while waiting for work (its default). Off here: spinning
     * threads take the cores from the event loop that queues the next batch, and on a shared
     * host they cost far more than they save (bench/results/runner.md).
     */
    RUNNER_INTRA_OP_SPINNING: z
      .enum(["0", "1", "true", "false"])
      .default("0")
      .transform((v) => v === "1" || v === "true"),
    RUNNER_SECRET: z.string().optional(),
    RUNNER_INSECURE: flag,
    RUNNER_DYNAMIC_BATCHING: z
      .enum(["0", "1", "true", "false"])
      .default("1")
      .transform((v) => v === "1" || v === "true"),
    RUNNER_BATCH_WINDOW_MS: z.coerce.number().min(0).max(1000).default(2),
    /** Most crops in one model run; also the most crops one request may carry. */
    RUNNER_MAX_BATCH: int(32, 1, 4096),
    /** Most requests waiting per model before new ones get 503. */
    RUNNER_MAX_QUEUE: int(256, 1, 1_000_000),
    RUNNER_MAX_BODY_BYTES: int(4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    /** Seconds a client is told to wait after a 503 for a full queue. */
    RUNNER_RETRY_AFTER_S: int(1, 1, 3600),
    RUNNER_SHUTDOWN_TIMEOUT_MS: int(30_000, 0, 600_000),
    /** A dead model session is restarted after this long, doubled after each failed restart ... */
    RUNNER_RESTART_BACKOFF_MS: int(250, 1, 600_000),
    /** ... up to this long between attempts. */
    RUNNER_RESTART_BACKOFF_MAX_MS: int(30_000, 1, 3_600_000),
    /** Failed restarts in a row after which /v2/health/live fails (the process should be replaced). */
    RUNNER_RESTART_MAX_FAILURES: int(5, 1, 1000),
    /** 1: test-only endpoints (POST /v2/test/models/<name>/crash-session). Never in production. */
    RUNNER_TEST_HOOKS: flag,
    /** One JSON line per inference/metadata request. */
    RUNNER_ACCESS_LOG: z
      .enum(["0", "1", "true", "false"])
      .default("1")
      .transform((v) => v === "1" || v === "true"),
    RUNNER_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  })
  .superRefine((env, ctx) => {
    if (!env.RUNNER_INSECURE && (!env.RUNNER_SECRET || env.RUNNER_SECRET.length < 16)) {
      ctx.addIssue({
        code: "custom",
        path: ["RUNNER_SECRET"],
        message: "RUNNER_SECRET (at least 16 characters) is required; set RUNNER_INSECURE=1 only for local development",
      });
    }
  });

export type RunnerConfig = {
  port: number;
  host: string;
  modelsDir: string;
  models: string[];
  providers: ExecutionProvider[];
  intraOpThreads: number;
  intraOpSpinning: boolean;
  /** Undefined only when RUNNER_INSECURE=1 and no secret was given. */
  secret: string | undefined;
  batching: { dynamic: boolean; windowMs: number; maxBatch: number; maxQueue: number };
  maxBodyBytes: number;
  retryAfterS: number;
  shutdownTimeoutMs: number;
  restart: { backoffMs: number; maxBackoffMs: number; maxFailures: number };
  testHooks: boolean;
  accessLog: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
};

/** Reads the configuration; throws an Error listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): RunnerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid runner configuration: ${lines.join("; ")}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    modelsDir: path.resolve(e.MODELS),
    models: e.RUNNER_MODELS.split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    providers: e.RUNNER_PROVIDERS,
    intraOpThreads: e.RUNNER_INTRA_OP_THREADS,
    intraOpSpinning: e.RUNNER_INTRA_OP_SPINNING,
    secret: e.RUNNER_SECRET || undefined,
    batching: {
      dynamic: e.RUNNER_DYNAMIC_BATCHING,
      windowMs: e.RUNNER_BATCH_WINDOW_MS,
      maxBatch: e.RUNNER_MAX_BATCH,
      maxQueue: e.RUNNER_MAX_QUEUE,
    },
    maxBodyBytes: e.RUNNER_MAX_BODY_BYTES,
    retryAfterS: e.RUNNER_RETRY_AFTER_S,
    shutdownTimeoutMs: e.RUNNER_SHUTDOWN_TIMEOUT_MS,
    restart: {
      backoffMs: e.RUNNER_RESTART_BACKOFF_MS,
      maxBackoffMs: e.RUNNER_RESTART_BACKOFF_MAX_MS,
      maxFailures: e.RUNNER_RESTART_MAX_FAILURES,
    },
    testHooks: e.RUNNER_TEST_HOOKS,
    accessLog: e.RUNNER_ACCESS_LOG,
    logLevel: e.RUNNER_LOG_LEVEL,
  };
}
