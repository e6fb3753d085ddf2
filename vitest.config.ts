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
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
