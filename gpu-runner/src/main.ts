/**
 * Entry point: `npm run runner` (tsx gpu-runner/src/main.ts). Configuration is environment
 * only; see gpu-runner/README.md.
 */
import { loadConfig } from "./config/index.js";
import { createLogger } from "./log/index.js";
import { startRunner } from "./runner.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    createLogger("info").error("refusing to start", { error: (error as Error).message });
    process.exit(2);
  }
  const logger = createLogger(config.logLevel);
  if (!config.secret) logger.warn("RUNNER_INSECURE=1: serving without authentication (local development only)");

  const runner = await startRunner(config, logger).catch((error: unknown) => {
    logger.error("failed to start", { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  });

  const onSignal = (signal: NodeJS.Signals) => {
    const deadline = setTimeout(() => {
      logger.error("shutdown timed out; exiting with work unfinished", { timeout_ms: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    runner.shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error("shutdown failed", { error: error instanceof Error ? error.message : String(error) });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
}

void main();
