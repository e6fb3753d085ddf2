/**
 * `npm start` (via scripts/start.sh): the local stack (scripts/lib/stack.ts) until Ctrl-C.
 *
 *   npx tsx scripts/stack.ts [--port 8787] [--runner-port 8081] [--persist-to .wrangler/state] [--quiet]
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "./lib/repo";
import { startStack } from "./lib/stack";

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
    await starting.then(
      (stack) => stack.stop(),
      () => undefined,
    );
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

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
