/** The runner's environment is validated up front; bad values stop it before it serves anything. */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config";

const secret = { RUNNER_SECRET: "0123456789abcdef" };

describe("loadConfig", () => {
  it("has the documented defaults", () => {
    const c = loadConfig(secret);
    expect(c).toMatchObject({
      port: 8081,
      providers: ["cuda", "webgpu", "cpu"],
      batching: { dynamic: true, windowMs: 2, maxBatch: 32, maxQueue: 256 },
      maxBodyBytes: 4 * 1024 * 1024,
      intraOpSpinning: false,
      secret: secret.RUNNER_SECRET,
      restart: { backoffMs: 250, maxBackoffMs: 30_000, maxFailures: 5 },
      testHooks: false,
    });
    expect(c.modelsDir).toMatch(/\/models$/);
  });

  it("parses lists and numbers", () => {
    const c = loadConfig({
      ...secret,
      RUNNER_PROVIDERS: " CPU , cuda",
      RUNNER_MODELS: "ThinAgeNet, ThinAttNet",
      RUNNER_BATCH_WINDOW_MS: "0.5",
      RUNNER_DYNAMIC_BATCHING: "0",
    });
    expect(c.providers).toEqual(["cpu", "cuda"]);
    expect(c.models).toEqual(["ThinAgeNet", "ThinAttNet"]);
    expect(c.batching).toMatchObject({ windowMs: 0.5, dynamic: false });
  });

  it("requires a secret of at least 16 characters unless RUNNER_INSECURE=1", () => {
    expect(() => loadConfig({})).toThrow(/RUNNER_SECRET/);
    expect(() => loadConfig({ RUNNER_SECRET: "short" })).toThrow(/RUNNER_SECRET/);
    expect(loadConfig({ RUNNER_INSECURE: "1" }).secret).toBeUndefined();
  });

  it("rejects bad values, naming the variable", () => {
    expect(() => loadConfig({ ...secret, RUNNER_PROVIDERS: "cuda,tpu" })).toThrow(/RUNNER_PROVIDERS/);
    expect(() => loadConfig({ ...secret, RUNNER_PROVIDERS: "" })).toThrow(/RUNNER_PROVIDERS/);
    expect(() => loadConfig({ ...secret, RUNNER_MAX_BATCH: "0" })).toThrow(/RUNNER_MAX_BATCH/);
    expect(() => loadConfig({ ...secret, RUNNER_MAX_QUEUE: "lots" })).toThrow(/RUNNER_MAX_QUEUE/);
    expect(() => loadConfig({ ...secret, PORT: "70000" })).toThrow(/PORT/);
    expect(() => loadConfig({ ...secret, RUNNER_INSECURE: "yes" })).toThrow(/RUNNER_INSECURE/);
    expect(() => loadConfig({ ...secret, RUNNER_RESTART_MAX_FAILURES: "0" })).toThrow(/RUNNER_RESTART_MAX_FAILURES/);
  });
});
