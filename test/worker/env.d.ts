/// <reference types="@cloudflare/vitest-plugin/types" />
// Test-only bindings added by vitest.config.ts (not in wrangler.toml).
declare namespace Cloudflare {
  interface Env {
    FAULT_RUNNER_URL: string;
  }
}
// vitest's workers pool gives tests Node's process.env (FUZZ_SEED, FUZZ_RUNS).
declare const process: { env: Record<string, string | undefined> };
