/**
 * Latency-tiered routing against the real GPU runner, with a fault-injecting proxy in front of it
 * for the slow and failing cases: each tier's route, the fallback within the deadline, the
 * breaker opening and recovering, and the latency EWMA steering `standard` away from a slow runner.
 */
import { describe, expect, inject, it, vi } from "vitest";
import { checkRunnerUrl } from "../../src/api/runner-url";
import { analyze, bytesOf, call, faultAbandoned, faultRequests, faultRunnerUrl, fixtures, setFault } from "./support/http";

const photo = bytesOf(fixtures.photoJpeg);
const reference = inject("nodeReference");
/** Routing is about where answers come from: the answer cache is off here (see cache.test.ts). */
const noCache = { CACHE_TTL_S: 0 };

interface Answer {
  route: string;
  cached: boolean;
  models: Record<string, { name: string; version: string }>;
  faces: { age?: { value: number }; beauty?: { value: number } }[];
}

/** How long the edge takes for this photo right now (the box may be busy): the yardstick for deadlines. */
async function edgeMs(query: string): Promise<number> {
  const started = Date.now();
  expect((await analyze(photo, query.replace("tier=standard", "tier=fast"), { env: noCache })).status).toBe(200);
  return Date.now() - started;
}

async function answer(res: Response): Promise<Answer> {
  expect(res.status).toBe(200);
  return (await res.json()) as Answer;
}

describe("each tier's route", () => {
  it("fast runs the small models in the worker", async () => {
    const a = await answer(await analyze(photo, "tier=fast", { env: noCache }));
    expect(a.route).toBe("edge");
    expect(a.models.age.name).toBe("TinyAgeNet");
    expect(a.models.beauty.name).toBe("TinyAttNet");
    expect(Math.abs(a.faces[0].age!.value - reference.faces[0].age)).toBeLessThanOrEqual(reference.tolerance);
  });

  it("standard runs ThinAgeNet on the runner, without flip", async () => {
    const a = await answer(await analyze(photo, "tier=standard", { env: noCache }));
    expect(a.route).toBe("gpu");
    expect(a.models.age.name).toBe("ThinAgeNet");
    expect(a.models.beauty.name).toBe("ThinAttNet");
    expect(Math.abs(a.faces[0].age!.value - reference.thinAge.standard)).toBeLessThanOrEqual(0.01);
    expect(a.faces[0].beauty!.value).toBeGreaterThanOrEqual(1);
    expect(a.faces[0].beauty!.value).toBeLessThanOrEqual(10);
  });

  it("accurate runs ThinAgeNet on the runner with its card's views averaged", async () => {
    const a = await answer(await analyze(photo, "tier=accurate&attributes=age", { env: noCache }));
    expect(a.route).toBe("gpu");
    expect(Math.abs(a.faces[0].age!.value - reference.thinAge.accurate)).toBeLessThanOrEqual(0.01);
    // The extra views change the answer, so this is not the standard tier's number.
    expect(Math.abs(reference.thinAge.accurate - reference.thinAge.standard)).toBeGreaterThan(1e-4);
  });
});

describe("standard falls back to the edge when the runner cannot answer", () => {
  it.each([
    ["slow", 30_000, "timeout", 500],
    // Failures that are known before the deadline: a generous one, so a busy box still classifies them.
    ["error", 0, "http", 15_000],
    ["garbage", 0, "invalid-response", 15_000],
    ["drop", 0, "network", 15_000],
    // An answer far over the cap (64 MiB streamed without Content-Length) is cut off, not buffered.
    ["huge", 0, "invalid-response", 15_000],
  ] as const)(
    "runner %s: route edge-fallback with the edge model's answer, within the deadline",
    async (mode, delayMs, reason, deadline) => {
      const name = `fallback-${mode}`;
      await setFault(name, mode, delayMs);
      const edge = await edgeMs("tier=standard&attributes=age");
      const logged = vi.spyOn(console, "log");
      logged.mockClear();
      const started = Date.now();
      const a = await answer(
        await analyze(photo, "tier=standard&attributes=age", {
          env: { ...noCache, RUNNER_URL: faultRunnerUrl(name), STANDARD_DEADLINE_MS: deadline },
        }),
      );
      const elapsed = Date.now() - started;
      // The request log says why the runner was not used, classified correctly.
      expect(
        logged.mock.calls
          .map((c) => String(c[0]))
          .filter((l) => l.includes('"route":"edge-fallback"'))
          .at(-1),
      ).toContain(`"fallback":"${reason}"`);
      logged.mockRestore();
      expect(a.route).toBe("edge-fallback");
      expect(a.models.age.name).toBe("TinyAgeNet");
      expect(Math.abs(a.faces[0].age!.value - reference.faces[0].age)).toBeLessThanOrEqual(reference.tolerance);
      expect(await faultRequests(name)).toBe(1);
      // Waited at most the deadline for the runner, then answered on the edge (never the slow runner's 30 s).
      expect(elapsed).toBeLessThan(deadline + 2 * edge + 1000);
    },
  );

  it("a fallback answer is not cached: the next call asks the runner again", async () => {
    const name = "fallback-nocache";
    await setFault(name, "error");
    const env = { RUNNER_URL: faultRunnerUrl(name) };
    expect((await answer(await analyze(photo, "tier=standard&attributes=age&max_faces=3", { env }))).route).toBe("edge-fallback");
    await setFault(name, "pass");
    const again = await answer(await analyze(photo, "tier=standard&attributes=age&max_faces=3", { env }));
    expect(again).toMatchObject({ route: "gpu", cached: false });
  });
});

describe("no runner configured", () => {
  it("standard is the edge models' answer by design: route edge, cached like any answer; accurate is 503", async () => {
    const env = { RUNNER_URL: "" };
    const query = "tier=standard&attributes=age&max_faces=4";
    const first = await answer(await analyze(photo, query, { env }));
    expect(first).toMatchObject({ route: "edge", cached: false, models: { age: { name: "TinyAgeNet" } } });
    expect(Math.abs(first.faces[0].age!.value - reference.faces[0].age)).toBeLessThanOrEqual(reference.tolerance);
    expect(await answer(await analyze(photo, query, { env }))).toMatchObject({ route: "edge", cached: true });
    // Keyed by the models that answered: a configured runner's standard answer is another entry.
    expect(await answer(await analyze(photo, query))).toMatchObject({ route: "gpu", cached: false });
    expect((await analyze(photo, "tier=accurate&attributes=age", { env })).status).toBe(503);
  });
});

describe("RUNNER_URL", () => {
  it("must be https unless the host is loopback or RUNNER_ALLOW_HTTP is true", async () => {
    expect(() => checkRunnerUrl("https://runner.example.com", false)).not.toThrow();
    for (const local of ["http://127.0.0.1:8081", "http://localhost:8081/", "http://[::1]:8081"])
      expect(() => checkRunnerUrl(local, false)).not.toThrow();
    expect(() => checkRunnerUrl("http://runner.example.com", false)).toThrow(/https/);
    expect(() => checkRunnerUrl("http://10.0.0.5:8081", false)).toThrow(/https/);
    expect(() => checkRunnerUrl("http://runner.internal:8081", true)).not.toThrow();
    expect(() => checkRunnerUrl("ftp://runner.example.com", true)).toThrow(/https/);
    expect(() => checkRunnerUrl("runner.example.com", false)).toThrow(/not a URL/);
    // A deployment that gets it wrong fails loudly on its first request, before any image is sent.
    const res = await analyze(photo, "tier=standard", { env: { RUNNER_URL: "http://runner.example.com" } });
    expect(res.status).toBe(500);
    expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  });
});

describe("batches", () => {
  function form(n: number): FormData {
    const f = new FormData();
    for (let i = 0; i < n; i++) f.append("image", new Blob([photo]), `${i}.jpg`);
    return f;
  }

  it("an item the runner cannot answer keeps its Retry-After (retry_after)", async () => {
    await setFault("batch-503", "error");
    const res = await call("/v1/analyze/batch?tier=accurate&attributes=age", {
      body: form(2),
      env: { ...noCache, RUNNER_URL: faultRunnerUrl("batch-503") },
    });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as { results: { status: number; retry_after?: number; problem?: { type: string } }[] };
    expect(results.map((r) => r.status)).toEqual([503, 503]);
    for (const r of results) {
      expect(r.problem!.type).toBe("/docs#problem-runner-unavailable");
      expect(r.retry_after).toBeGreaterThanOrEqual(1);
    }
  });

  it("the request log says which routes answered and why the runner was skipped", async () => {
    await setFault("batch-log", "error");
    const logged = vi.spyOn(console, "log");
    logged.mockClear();
    const res = await call("/v1/analyze/batch?tier=standard&attributes=age", {
      body: form(2),
      env: { ...noCache, RUNNER_URL: faultRunnerUrl("batch-log") },
    });
    expect(res.status).toBe(200);
    const line = JSON.parse(
      logged.mock.calls
        .map((c) => String(c[0]))
        .filter((l) => l.includes('"path":"/v1/analyze/batch"'))
        .at(-1)!,
    );
    logged.mockRestore();
    expect(line).toMatchObject({ status: 200, route: "edge-fallback", items: 2, faces: 2, fallback: "http" });
  });
});

describe("circuit breaker", () => {
  it("opens after 3 failures (no more runner calls, accurate fails fast) and recovers after the open period", async () => {
    const name = "breaker";
    await setFault(name, "error");
    // Open long enough that a request's own edge work (slow on a busy box) cannot outlast it.
    const env = { ...noCache, RUNNER_URL: faultRunnerUrl(name), BREAKER_FAILURES: 3, BREAKER_OPEN_MS: 8000 };
    for (let i = 1; i <= 3; i++) {
      expect((await answer(await analyze(photo, `tier=standard&attributes=age&max_faces=${i}`, { env }))).route).toBe("edge-fallback");
    }
    expect(await faultRequests(name)).toBe(3);
    const health = (await (await call("/healthz", { env })).json()) as Health;
    // Errors are facts about the runner, not about a deadline: both tiers' breakers open.
    expect(health).toMatchObject({
      status: "degraded",
      runner: { breaker: "open", tiers: { standard: { breaker: "open" }, accurate: { breaker: "open" } } },
    });

    // Open: the runner is not called at all.
    expect((await answer(await analyze(photo, "tier=standard&attributes=age&max_faces=4", { env }))).route).toBe("edge-fallback");
    const accurate = await analyze(photo, "tier=accurate&attributes=age", { env });
    expect(accurate.status).toBe(503);
    expect(Number(accurate.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(await faultRequests(name)).toBe(3);

    // The runner comes back; after the open period one probe goes through and closes the breaker.
    await setFault(name, "pass");
    await new Promise((r) => setTimeout(r, 8100));
    expect((await answer(await analyze(photo, "tier=standard&attributes=age&max_faces=5", { env }))).route).toBe("gpu");
    expect(await faultRequests(name)).toBe(4);
    // Each tier probes for itself: accurate's breaker (opened by the same errors) closes on its own probe.
    expect((await answer(await analyze(photo, "tier=accurate&attributes=age&max_faces=2", { env }))).route).toBe("gpu");
    const healed = (await (await call("/healthz", { env })).json()) as Health;
    expect(healed).toMatchObject({ status: "ok", runner: { breaker: "closed" } });
  });

  it("a failed probe opens it again", async () => {
    const name = "breaker-probe";
    await setFault(name, "error");
    const env = { ...noCache, RUNNER_URL: faultRunnerUrl(name), BREAKER_FAILURES: 2, BREAKER_OPEN_MS: 8000 };
    for (let i = 1; i <= 2; i++) await analyze(photo, `tier=standard&attributes=age&max_faces=${i}`, { env });
    await new Promise((r) => setTimeout(r, 8100));
    await analyze(photo, "tier=standard&attributes=age&max_faces=3", { env }); // the probe, fails
    expect(await faultRequests(name)).toBe(3);
    await analyze(photo, "tier=standard&attributes=age&max_faces=4", { env }); // open again: not sent
    expect(await faultRequests(name)).toBe(3);
  });
});

describe("latency EWMA", () => {
  it("a runner slower than standard's deadline is skipped by standard (still used by accurate), then probed", async () => {
    const name = "ewma";
    const edge = await edgeMs("tier=standard&attributes=age");
    await setFault(name, "slow", 5000);
    const base = { ...noCache, RUNNER_URL: faultRunnerUrl(name), STANDARD_DEADLINE_MS: 2000, ACCURATE_DEADLINE_MS: 30_000 };
    const skip = { ...base, SLOW_RUNNER_PROBE_MS: 600_000 };
    // Standard's own call times out: its EWMA is now at its 2 s deadline.
    expect(await answer(await analyze(photo, "tier=standard&attributes=age", { env: skip }))).toMatchObject({ route: "edge-fallback" });
    expect(await faultRequests(name)).toBe(1);
    // Standard does not even try now: no runner call, no wait.
    const started = Date.now();
    expect((await answer(await analyze(photo, "tier=standard&attributes=age&max_faces=2", { env: skip }))).route).toBe("edge-fallback");
    expect(Date.now() - started).toBeLessThan(2 * edge + 1000);
    expect(await faultRequests(name)).toBe(1);
    // Accurate waits for it (its own deadline is 30 s).
    expect((await answer(await analyze(photo, "tier=accurate&attributes=age", { env: base }))).route).toBe("gpu");
    expect(await faultRequests(name)).toBe(2);
    // The runner gets fast again; once the probe interval has passed, standard tries it and goes back to it.
    await setFault(name, "pass");
    const probe = { ...base, SLOW_RUNNER_PROBE_MS: 0 };
    expect((await answer(await analyze(photo, "tier=standard&attributes=age&max_faces=3", { env: probe }))).route).toBe("gpu");
    expect(await faultRequests(name)).toBe(3);
  });

  it("standard's probe fires on schedule while accurate keeps calling the runner", async () => {
    const name = "ewma-schedule";
    await setFault(name, "slow", 3000, 1);
    const env = {
      ...noCache,
      RUNNER_URL: faultRunnerUrl(name),
      STANDARD_DEADLINE_MS: 1500,
      ACCURATE_DEADLINE_MS: 30_000,
      SLOW_RUNNER_PROBE_MS: 4000,
    };
    // One slow standard call: standard now skips the runner for 4 s.
    expect((await answer(await analyze(photo, "tier=standard&attributes=age", { env }))).route).toBe("edge-fallback");
    const slowAt = Date.now();
    // Accurate calls go on meanwhile (they used to push standard's probe back every time).
    while (Date.now() - slowAt < 4000) {
      expect((await answer(await analyze(photo, "tier=accurate&attributes=age", { env }))).route).toBe("gpu");
    }
    expect(await faultRequests(name)).toBeGreaterThanOrEqual(2);
    expect((await answer(await analyze(photo, "tier=standard&attributes=age&max_faces=2", { env }))).route).toBe("gpu");
  });
});

interface Health {
  status: string;
  runner: {
    breaker: string;
    tiers: Record<"standard" | "accurate", { breaker: string; consecutive_failures: number; latency_ewma_ms: number | null }>;
  };
}

describe("per-tier health (issue 12)", () => {
  it("an accurate request that times out does not change where the next 100 standard requests go", async () => {
    const name = "tier-isolation";
    // A deadline poisoning would show at once: one failure opens a breaker, and a standard skipped
    // as slow would not be probed again within the test.
    const env = {
      ...noCache,
      RUNNER_URL: faultRunnerUrl(name),
      STANDARD_DEADLINE_MS: 5000,
      ACCURATE_DEADLINE_MS: 6000,
      BREAKER_FAILURES: 1,
      BREAKER_OPEN_MS: 600_000,
      SLOW_RUNNER_PROBE_MS: 600_000,
    };
    await setFault(name, "slow", 30_000, 1); // only the next runner call is slow
    const accurate = await analyze(photo, "tier=accurate&attributes=age", { env });
    expect(accurate.status).toBe(503);
    expect(await faultRequests(name)).toBe(1);

    const routes: Record<string, number> = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < 100) {
          next += 1;
          const a = await answer(await analyze(photo, "tier=standard&attributes=age", { env }));
          routes[a.route] = (routes[a.route] ?? 0) + 1;
        }
      }),
    );
    expect(routes).toEqual({ gpu: 100 });
    expect(await faultRequests(name)).toBe(101);
    const health = (await (await call("/healthz", { env })).json()) as Health;
    expect(health.runner.tiers.accurate).toMatchObject({ breaker: "open", consecutive_failures: 1, latency_ewma_ms: 6000 });
    expect(health.runner.tiers.standard).toMatchObject({ breaker: "closed", consecutive_failures: 0 });
    expect(health.runner.tiers.standard.latency_ewma_ms).toBeLessThan(5000);
  });

  it("one 20-face request whose runner calls all fail counts as one breaker failure", async () => {
    const crowd = bytesOf(fixtures.crowdJpeg);
    const name = "fan-out";
    // 20 faces, six views each (ThinAgeNet's accurate tier): 120 crops, 4 per call: 30 calls for one request.
    const env = { ...noCache, RUNNER_URL: faultRunnerUrl(name), RUNNER_MAX_BATCH: 4, BREAKER_FAILURES: 2, BREAKER_OPEN_MS: 600_000 };
    expect((await answer(await analyze(crowd, "tier=fast&max_faces=20", { env }))).faces.length).toBe(20);
    await setFault(name, "error");

    const first = await analyze(crowd, "tier=accurate&max_faces=20", { env });
    expect(first.status).toBe(503);
    const calls = await faultRequests(name);
    expect(calls).toBeGreaterThan(1); // it did fan out, and every call that got there failed
    let health = (await (await call("/healthz", { env })).json()) as Health;
    expect(health.runner.tiers.accurate).toMatchObject({ breaker: "closed", consecutive_failures: 1 });
    expect(health.runner.tiers.standard).toMatchObject({ breaker: "closed", consecutive_failures: 1 });

    // The second failing request opens it; after that the runner is not called.
    expect((await analyze(crowd, "tier=accurate&max_faces=20", { env })).status).toBe(503);
    health = (await (await call("/healthz", { env })).json()) as Health;
    expect(health.runner.tiers.accurate).toMatchObject({ breaker: "open", consecutive_failures: 2 });
    const opened = await faultRequests(name);
    expect((await analyze(crowd, "tier=accurate&max_faces=20", { env })).status).toBe(503);
    expect(await faultRequests(name)).toBe(opened);
  });

  it("the worker hangs up on the runner at the deadline, and on a request's other calls once one fails", async () => {
    // At the deadline: the runner sees the connection close (and drops the queued work, gpu-runner/test/faults.test.ts).
    await setFault("hang-up", "slow", 30_000);
    const env = { ...noCache, RUNNER_URL: faultRunnerUrl("hang-up"), STANDARD_DEADLINE_MS: 500 };
    expect((await answer(await analyze(photo, "tier=standard&attributes=age", { env }))).route).toBe("edge-fallback");
    await vi.waitFor(async () => expect(await faultAbandoned("hang-up")).toBe(1), { timeout: 5000, interval: 100 });

    // One of 20 calls fails at once; the other 19 (slow) are abandoned, not left running for nobody.
    await setFault("hang-up-siblings", "error", 0, 1, { mode: "slow", delayMs: 30_000 });
    const crowd = bytesOf(fixtures.crowdJpeg);
    const fanOut = { ...noCache, RUNNER_URL: faultRunnerUrl("hang-up-siblings"), RUNNER_MAX_BATCH: 4, ACCURATE_DEADLINE_MS: 60_000 };
    const started = Date.now();
    expect((await analyze(crowd, "tier=accurate&max_faces=20", { env: fanOut })).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(30_000);
    const calls = await faultRequests("hang-up-siblings");
    expect(calls).toBeGreaterThan(1);
    await vi.waitFor(async () => expect(await faultAbandoned("hang-up-siblings")).toBe(calls - 1), { timeout: 5000, interval: 100 });
  });
});
