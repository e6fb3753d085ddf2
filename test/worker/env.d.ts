/// <reference types="@cloudflare/vitest-plugin/types" />
// Test-only bindings added by vitest.config.ts (not in wrangler.toml).
declare namespace Cloudflare {
  interface Env {
    FAULT_RUNNER_URL: string;
  }
}
