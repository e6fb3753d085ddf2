/**
 * The local stack: the GPU runner on this machine's CPU (gpu-runner/) and the edge worker in local
 * workerd (`wrangler dev`), wired together with a secret made up for this run.
 *
 * One implementation for people and tests: `npm start` runs this file (via scripts/start.sh),
 * and the browser and client tests call `startStack()`. Each child gets its own process group,
 * so stopping the stack also ends what the children started (npx -> wrangler -> workerd) and
 * nothing outlives it.
 *
 *   npx tsx scripts/stack.ts [--port 8787] [--runner-port 8081] [--persist-to .wrangler/state]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const WRANGLER = path.join(REPO_ROOT, "node_modules/wrangler/bin/wrangler.js");

/**
 * The compatibility date to run the worker under locally: wrangler.toml's, unless the workerd
 * binary this wrangler ships is older than that date (it refuses to start then). Production runs
 * on Cloudflare's current runtime with wrangler.toml's date either way.
 */
export async function localCompatibilityDate(): Promise<{ date: string; configured: string; lowered: boolean }> {
  const configured = /^compatibility_date\s*=\s*"([\d-]+)"/m.exec(readFileSync(path.join(REPO_ROOT, "wrangler.toml"), "utf8"))?.[1] ?? "";
  let supported = configured;
  try {
    const workerd = createRequire(WRANGLER).resolve("workerd");
    supported = ((await import(workerd)) as { compatibilityDate?: string }).compatibilityDate ?? configured;
  } catch {
    // no separate workerd package: keep the configured date
  }
  const lowered = configured !== "" && supported < configured;
  return { date: lowered ? supported : configured, configured, lowered };
}

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

/** A port that was free a moment ago (the OS picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface Child {
  process: ChildProcess;
  exited: Promise<void>;
}

function spawnGroup(command: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Child {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim()) onLine(line);
    });
  }
  return { process: child, exited };
}

function alive(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/** SIGTERM to the child's whole process group, SIGKILL to it after `graceMs`. */
async function stopGroup(child: Child, graceMs = 8000): Promise<void> {
  const pid = child.process.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  };
  signalGroup("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalGroup("SIGKILL");
      resolve();
    }, graceMs);
  });
  await Promise.race([child.exited, killed]);
  clearTimeout(timer);
  // The leader may exit before its own children (wrangler's workerd): make sure none are left.
  signalGroup("SIGKILL");
  for (let i = 0; i < 40 && liveProcessesInGroup(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
}

/**
 * The processes of a process group that still run. Zombies do not count: they have exited and
 * only wait for init to reap them (which some container inits never do). Linux only (/proc);
 * elsewhere it reports whether the group exists at all.
 */
export function liveProcessesInGroup(pgid: number): number[] {
  if (!existsSync("/proc/self/stat")) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const live: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after its ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") live.push(Number(entry));
  }
  return live;
}

async function waitHealthy(url: string, child: Child, name: string, deadline: number, logs: () => string[]): Promise<void> {
  while (Date.now() < deadline) {
    if (!alive(child)) throw new Error(`${name} exited before it was healthy:\n${logs().join("\n")}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not healthy at ${url} in time:\n${logs().join("\n")}`);
}

/** The models the worker bundles (Tiny*) and the runner serves (Thin*), as `models/<name>.{onnx,json}`. */
export const SERVED_MODELS = ["TinyAgeNet", "TinyAttNet", "ThinAgeNet", "ThinAttNet"] as const;

/** Fails early, with what to do, when model files are missing (they are build output, not in git). */
export function checkModels(dir = path.join(REPO_ROOT, "models")): void {
  const missing = SERVED_MODELS.flatMap((name) => [`${name}.onnx`, `${name}.json`]).filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0) {
    throw new Error(
      `missing model files in ${dir}: ${missing.join(", ")}.\n` +
        "Train and export them with training/scripts/models.sh (see README, Training), or copy a release's models/ folder here.",
    );
  }
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
    log("worker")(`local workerd supports compatibility dates up to ${compat.date}; running with it instead of wrangler.toml's ${compat.configured}`);
  }
  let runner = spawnRunner();
  const vars: Record<string, string> = { RUNNER_URL: runnerUrl, RUNNER_SECRET: secret, ...options.vars };
  const worker = watch("worker", spawnGroup(
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
    { CLOUDFLARE_CF_FETCH_ENABLED: "false", ...baseEnv, WRANGLER_SEND_METRICS: "false", CI: "1", NO_COLOR: "1" },
    log("worker"),
  ));

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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: process.env.PORT ?? "8787" },
      "runner-port": { type: "string", default: "8081" },
      "persist-to": { type: "string", default: path.join(REPO_ROOT, ".wrangler/state") },
      quiet: { type: "boolean", default: false },
    },
  });
  const started = Date.now();
  console.log("starting the GPU runner (CPU) and the edge worker (local workerd)...");
  const abort = new AbortController();
  let stopping = false;
  const starting = startStack({
    port: Number(values.port),
    runnerPort: Number(values["runner-port"]),
    persistTo: values["persist-to"],
    signal: abort.signal,
    onLog: values.quiet ? undefined : (source, line) => console.log(`[${source}] ${line}`),
    onUnexpectedExit: (name) => {
      console.error(`the ${name} exited unexpectedly; stopping the stack`);
      process.exitCode = 1;
      void shutdown("exit");
    },
  });
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping runner and worker...`);
    abort.abort();
    await starting.then((stack) => stack.stop(), () => undefined);
    console.log("stopped.");
    process.exit(process.exitCode ?? 0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGHUP", () => void shutdown("SIGHUP"));
  // Whoever started us (npm, a shell, a supervisor) may be killed without passing the signal on:
  // once we are re-parented, nobody can stop us with Ctrl-C any more, so stop by ourselves.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown("parent exited");
  }, 500).unref();

  const stack = await starting.catch((err: unknown) => {
    if (stopping) return new Promise<never>(() => {}); // shutdown() exits
    throw err;
  });
  if (stopping) return;
  const s = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    [
      "",
      `Ready in ${s} s.`,
      `  Playground:  ${stack.url}/`,
      `  API docs:    ${stack.url}/docs   (OpenAPI: ${stack.url}/openapi.json)`,
      `  Try:         curl -s -X POST --data-binary @face.jpg -H 'content-type: image/jpeg' '${stack.url}/v1/analyze?tier=standard'`,
      `  Runner:      ${stack.runnerUrl} (CPU, secret generated for this run)`,
      "Press Ctrl-C to stop both.",
      "",
    ].join("\n"),
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
