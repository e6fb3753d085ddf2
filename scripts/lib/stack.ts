/**
 * The local stack: the GPU runner on this machine's CPU (gpu-runner/) and the edge worker in local
 * workerd (`wrangler dev`), wired together with a secret made up for this run.
 *
 * One implementation for people and tests: `npm start` runs scripts/stack.ts (via scripts/start.sh),
 * and the browser, client and hardening tests and the benches call `startStack()`. Each child gets
 * its own process group, so stopping the stack also ends what the children started
 * (npx -> wrangler -> workerd) and nothing outlives it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkModels } from "./models";
import { alive, freePort, spawnGroup, stopGroup, waitHealthy, type Child } from "./processes";
import { localCompatibilityDate, OFFLINE_WRANGLER_ENV, WRANGLER } from "./workerd";

export interface StackOptions {
  /** Worker port; 0 picks a free one. Default 8787. */
  port?: number;
  /** Runner port; 0 picks a free one. Default 8081. */
  runnerPort?: number;
  /**
   * Where workerd keeps KV, Durable Object and cache state. Default: a fresh temporary folder,
   * removed on stop (rate-limit counters and the answer cache start empty).
   */
  persistTo?: string;
  /** Extra worker vars, as `wrangler dev --var NAME:value` (e.g. `BREAKER_OPEN_MS`, `PLANS` as JSON). */
  vars?: Record<string, string>;
  /** Extra runner environment (e.g. `RUNNER_MODELS`). */
  runnerEnv?: Record<string, string>;
  /** Where the children's output goes: a line sink, or nowhere. Default: nowhere (kept in `logs`). */
  onLog?: (source: "runner" | "worker", line: string) => void;
  /** How long to wait for both to be healthy. Default 180 s (the first wrangler build is slow). */
  readyTimeoutMs?: number;
  /** Aborting it stops the stack, also while it is still starting. */
  signal?: AbortSignal;
  /** wrangler's log level; "log" lets the worker's own request log through. Default "warn". */
  workerLogLevel?: "debug" | "info" | "log" | "warn" | "error";
  /** Called when runner or worker exits on its own (not through `stop`/`stopRunner`). */
  onUnexpectedExit?: (name: "runner" | "worker") => void;
}

export interface Stack {
  /** The worker's base URL, e.g. http://127.0.0.1:8787 */
  url: string;
  runnerUrl: string;
  /** The last lines of both children's output, for error messages. */
  logs(): string[];
  /** Process group ids (the children's pids): after `stop`, no process is left in either. */
  processGroups(): { runner: number | undefined; worker: number | undefined };
  /** Stops the runner only (the worker stays up): to see the `standard` fallback or `accurate` 503. */
  stopRunner(): Promise<void>;
  /** Starts the runner again on the same port and secret; resolves once it is ready. */
  startRunner(): Promise<void>;
  /** Stops both (SIGTERM to each process group, SIGKILL after a grace period). Idempotent. */
  stop(): Promise<void>;
}

/** Starts runner and worker and resolves once both answer their health checks. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  checkModels();
  const port = options.port === 0 ? await freePort() : (options.port ?? 8787);
  const runnerPort = options.runnerPort === 0 ? await freePort() : (options.runnerPort ?? 8081);
  const inspectorPort = await freePort();
  const ownState = options.persistTo === undefined;
  const persistTo = options.persistTo ?? mkdtempSync(path.join(tmpdir(), "faceage-stack-"));
  // Made up per run and known only to the two children: the runner refuses anyone else.
  const secret = randomBytes(24).toString("base64url");
  const url = `http://127.0.0.1:${port}`;
  const runnerUrl = `http://127.0.0.1:${runnerPort}`;
  const timeoutMs = options.readyTimeoutMs ?? 180_000;

  const recent: string[] = [];
  const log = (source: "runner" | "worker") => (line: string) => {
    recent.push(`[${source}] ${line}`);
    if (recent.length > 200) recent.shift();
    options.onLog?.(source, line);
  };
  const logs = () => recent.slice(-60);

  const baseEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("RUNNER_") && k !== "PORT" && k !== "HOST" && k !== "MODELS") baseEnv[k] = v;
  }

  const runnerEnv: NodeJS.ProcessEnv = {
    ...baseEnv,
    PORT: String(runnerPort),
    HOST: "127.0.0.1",
    RUNNER_SECRET: secret,
    // No GPU here: ONNX Runtime's CPU provider, the runner's embedded last resort.
    RUNNER_PROVIDERS: "cpu",
    ...options.runnerEnv,
  };
  let stopping = false;
  let runnerStopping = false;
  const watch = (name: "runner" | "worker", child: Child) => {
    void child.exited.then(() => {
      if (!stopping && !(name === "runner" && runnerStopping)) options.onUnexpectedExit?.(name);
    });
    return child;
  };
  const spawnRunner = () =>
    watch("runner", spawnGroup(process.execPath, ["--import", "tsx", "gpu-runner/src/main.ts"], runnerEnv, log("runner")));

  const compat = await localCompatibilityDate();
  if (compat.lowered) {
    log("worker")(
      `local workerd supports compatibility dates up to ${compat.date}; running with it instead of wrangler.toml's ${compat.configured}`,
    );
  }
  let runner = spawnRunner();
  const vars: Record<string, string> = { RUNNER_URL: runnerUrl, RUNNER_SECRET: secret, ...options.vars };
  const worker = watch(
    "worker",
    spawnGroup(
      process.execPath,
      [
        WRANGLER,
        "dev",
        "--local",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspectorPort),
        "--persist-to",
        persistTo,
        ...(compat.lowered ? ["--compatibility-date", compat.date] : []),
        "--show-interactive-dev-session=false",
        "--log-level",
        options.workerLogLevel ?? "warn",
        ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
      ],
      // Offline-friendly: no telemetry, and a placeholder Request.cf instead of fetching one.
      { ...OFFLINE_WRANGLER_ENV, ...baseEnv, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" },
      log("worker"),
    ),
  );

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopping = true;
    stopped ??= Promise.all([stopGroup(runner), stopGroup(worker)]).then(() => {
      if (ownState) rmSync(persistTo, { recursive: true, force: true });
    });
    return stopped;
  };
  options.signal?.addEventListener("abort", () => void stop(), { once: true });

  const deadline = Date.now() + timeoutMs;
  try {
    await Promise.all([
      waitHealthy(`${runnerUrl}/v2/health/ready`, runner, "runner", deadline, logs),
      waitHealthy(`${url}/healthz`, worker, "worker", deadline, logs),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    url,
    runnerUrl,
    logs,
    stop,
    processGroups: () => ({ runner: runner.process.pid, worker: worker.process.pid }),
    stopRunner: async () => {
      runnerStopping = true;
      await stopGroup(runner);
    },
    startRunner: async () => {
      if (alive(runner)) return;
      runnerStopping = false;
      runner = spawnRunner();
      await waitHealthy(`${runnerUrl}/v2/health/ready`, runner, "runner", Date.now() + 90_000, logs);
    },
  };
}
