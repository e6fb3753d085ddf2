import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Two projects: plain Node (pipeline, runner, CLIs, browser) and the real workerd runtime
// (the worker; added by the edge module). `npm test` runs both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts", "gpu-runner/test/**/*.test.ts"],
          environment: "node",
          // The JPEG and WebP decoders' WebAssembly, compiled once per test file.
          setupFiles: ["test/node/setup.ts"],
          // Several files start a whole local stack (runner + workerd + Chromium): one file at a
          // time keeps startup within its deadline on a 2-core machine.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The edge worker in workerd (src/worker.ts with wrangler.toml's bindings), against the
        // real GPU runner and a fault-injecting proxy started by test/worker/global-setup.ts.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                RUNNER_URL: inject<string>("runnerUrl"),
                RUNNER_SECRET: inject<string>("runnerSecret"),
                // Test-only: the fault proxy, for tests that pass it as RUNNER_URL.
                FAULT_RUNNER_URL: inject<string>("faultRunnerUrl"),
                // The shared 2-core CI box is slow; the fallback tests set their own short deadline.
                STANDARD_DEADLINE_MS: 20_000,
                ACCURATE_DEADLINE_MS: 20_000,
                BREAKER_OPEN_MS: 1_000,
                // Every test file's anonymous calls share one location: a budget they cannot reach
                // (limits.test.ts sets a small one for its own location).
                ANONYMOUS_BUDGET: { per_minute: 1_000_000, per_day: 10_000_000 },
                PLANS: {
                  free: { per_minute: 10, per_day: 500, max_batch: 4 },
                  pro: { per_minute: 600, per_day: 100_000, max_batch: 16 },
                  burst: { per_minute: 20, per_day: 1_000, max_batch: 8 },
                  daily: { per_minute: 1_000, per_day: 7, max_batch: 8 },
                },
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/worker/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
