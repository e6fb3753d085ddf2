/**
 * Faults on the real local stack (scripts/lib/stack.ts: the GPU runner process and the worker in
 * `wrangler dev`): the runner is killed (SIGKILL) in the middle of a load, then a stand-in on its
 * port answers slowly, then with garbage, then the real runner comes back. Throughout, `standard`
 * answers 200 (route `edge-fallback` when the runner cannot answer) within its deadline plus the
 * edge's own work, `accurate` answers 503 (fast while the breaker is open), the breaker recovers,
 * and every request sent is accounted for. Finally, the captured logs of both processes are
 * searched for the images, the API key and the runner secret.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { freePort } from "../../../scripts/lib/processes";
import { startStack, type Stack } from "../../../scripts/lib/stack";
import { startFaultRunner } from "../../support/fault-runner";
import { createKey } from "../../support/keys";
import { photos, withComment } from "../../support/photos";
import { health, Ledger, pool } from "./support";

const STANDARD_DEADLINE_MS = 1500;
const ACCURATE_DEADLINE_MS = 4000;
const BREAKER_OPEN_MS = 2500;
/** Scheduling slack on this shared 2-core box, on top of the deadline and the edge's own work. */
const SLACK_MS = 3000;

let stack: Stack;
let state: string;
let key: string;
let runnerPort: number;
const logs: string[] = [];
const ledger = new Ledger();
let images: Buffer[];
let counter = 0;
const nextImage = () => withComment(images[counter % images.length], `faults ${counter++}`);
/** The edge's own time for one photo (tier=fast, sequential), measured on this box at start. */
let edgeMs = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  images = photos(6);
  state = mkdtempSync(path.join(tmpdir(), "hardening-faults-"));
  key = createKey(state, "enterprise", "faults").key;
  runnerPort = await freePort();
  stack = await startStack({
    port: 0,
    runnerPort,
    persistTo: state,
    vars: {
      STANDARD_DEADLINE_MS: String(STANDARD_DEADLINE_MS),
      ACCURATE_DEADLINE_MS: String(ACCURATE_DEADLINE_MS),
      BREAKER_FAILURES: "3",
      BREAKER_OPEN_MS: String(BREAKER_OPEN_MS),
      CACHE_TTL_S: "0",
    },
    runnerEnv: { RUNNER_INTRA_OP_THREADS: "1", RUNNER_MODELS: "ThinAgeNet,ThinAttNet" },
    workerLogLevel: "log",
    onLog: (source, line) => logs.push(`[${source}] ${line}`),
  });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  // For a failure's post-mortem (CI keeps the tmp folder's contents out of the repository).
  writeFileSync(path.join(tmpdir(), "hardening-faults.log"), logs.join("\n"));
  if (state) rmSync(state, { recursive: true, force: true });
  const c = ledger.counts();
  console.log(
    `[hardening/faults] sent ${c.sent}, answered ${c.answered} (2xx ${c.ok}, 503 ${c.refused503}, other ${c.otherStatus}), failed ${c.failed}; routes gpu ${c.gpu}, edge-fallback ${c.fallback}`,
  );
}, 60_000);

describe("faults: the runner killed, slow, returning garbage, and back", () => {
  it("healthy: standard and accurate run on the runner", async () => {
    // Warm-up and the edge's own latency on this machine.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const o = await ledger.send(stack.url, "fast", nextImage(), { key });
      expect(o).toMatchObject({ status: 200, route: "edge" });
      times.push(o.ms);
    }
    edgeMs = Math.max(...times.slice(1));
    expect(await ledger.send(stack.url, "standard", nextImage(), { key })).toMatchObject({ status: 200, route: "gpu" });
    expect(await ledger.send(stack.url, "accurate", nextImage(), { key })).toMatchObject({ status: 200, route: "gpu" });
  }, 180_000);

  it("the runner killed mid-load: standard keeps answering (edge-fallback), accurate answers 503, nothing is lost", async () => {
    const before = ledger.outcomes.length;
    const total = 24;
    let killedAt = -1;
    const runnerPgid = stack.processGroups().runner!;
    await pool(total, 4, async (i) => {
      // SIGKILL to the runner's process group once a quarter of the load has been answered.
      if (killedAt < 0 && ledger.outcomes.length - before >= total / 4) {
        killedAt = ledger.outcomes.length - before;
        process.kill(-runnerPgid, "SIGKILL");
      }
      await ledger.send(stack.url, i % 3 === 2 ? "accurate" : "standard", nextImage(), { key });
    });
    expect(killedAt).toBeGreaterThan(0);
    const phase = ledger.outcomes.slice(before);
    const standard = phase.filter((o) => o.tier === "standard");
    const accurate = phase.filter((o) => o.tier === "accurate");
    // Every request answered; nothing failed at the transport, nothing unaccounted.
    expect(phase).toHaveLength(total);
    expect(phase.filter((o) => o.status === 0)).toEqual([]);
    expect(
      standard.every((o) => o.status === 200 && (o.route === "gpu" || o.route === "edge-fallback")),
      JSON.stringify(standard),
    ).toBe(true);
    expect(standard.filter((o) => o.route === "edge-fallback").length).toBeGreaterThan(0);
    expect(
      accurate.every(
        (o) => (o.status === 200 && o.route === "gpu") || (o.status === 503 && o.problemType === "/docs#problem-runner-unavailable"),
      ),
      JSON.stringify(accurate),
    ).toBe(true);
    expect(accurate.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    // After the kill, the last requests of each tier did not use the runner.
    expect(standard.at(-1)!.route).toBe("edge-fallback");
    expect(accurate.at(-1)!.status).toBe(503);
    expect((await health(stack.url)).runner.breaker).toBe("open");
  }, 180_000);

  it("a slow runner: standard falls back at its deadline, accurate gives up at its own (each tier probes for itself) and then fails fast", async () => {
    const standIn = await startFaultRunner({ port: runnerPort, fault: { mode: "slow", delayMs: 20_000 } });
    try {
      await sleep(BREAKER_OPEN_MS + 200);
      // The breaker lets a probe through to the (slow) stand-in; standard waits its deadline, no more.
      // A probe is one request: its two calls (age and beauty) go together, under one deadline.
      const s = await ledger.send(stack.url, "standard", nextImage(), { key });
      expect(s).toMatchObject({ status: 200, route: "edge-fallback" });
      expect(standIn.requests()).toBe(2);
      expect(s.ms).toBeGreaterThanOrEqual(STANDARD_DEADLINE_MS - 50);
      expect(s.ms).toBeLessThan(STANDARD_DEADLINE_MS + edgeMs + SLACK_MS);

      // Standard's timeout says nothing about accurate's longer deadline: accurate (half-open since
      // the kill) probes for itself, waits its own deadline (not the runner's 20 s), then 503.
      const probed = await ledger.send(stack.url, "accurate", nextImage(), { key });
      expect(probed).toMatchObject({ status: 503, problemType: "/docs#problem-runner-unavailable" });
      expect(standIn.requests()).toBe(4);
      expect(probed.ms).toBeGreaterThanOrEqual(ACCURATE_DEADLINE_MS - 50);
      expect(probed.ms).toBeLessThan(ACCURATE_DEADLINE_MS + edgeMs + SLACK_MS);

      // Open again: accurate is refused at once, without calling the runner.
      const fast503 = await ledger.send(stack.url, "accurate", nextImage(), { key });
      expect(fast503).toMatchObject({ status: 503, problemType: "/docs#problem-runner-unavailable" });
      expect(fast503.ms).toBeLessThan(edgeMs + SLACK_MS);
      expect(standIn.requests()).toBe(4);
    } finally {
      await standIn.close();
    }
  }, 180_000);

  it("a runner returning garbage: standard falls back, accurate answers 503 (never 500)", async () => {
    const standIn = await startFaultRunner({ port: runnerPort, fault: { mode: "garbage" } });
    try {
      const seen: number[] = [];
      for (let round = 0; round < 2; round++) {
        await sleep(BREAKER_OPEN_MS + 200);
        const s = await ledger.send(stack.url, "standard", nextImage(), { key });
        expect(s).toMatchObject({ status: 200, route: "edge-fallback" });
        seen.push(standIn.requests());
        await sleep(BREAKER_OPEN_MS + 200);
        const a = await ledger.send(stack.url, "accurate", nextImage(), { key });
        expect(a).toMatchObject({ status: 503, problemType: "/docs#problem-runner-unavailable" });
        seen.push(standIn.requests());
      }
      // Each probe (one request: its age and beauty calls) reached the stand-in and its answers were
      // rejected. Once the first garbage answer is rejected the sibling call is aborted, so it may
      // never leave the worker: a probe shows as one or two calls, never none.
      const perProbe = seen.map((n, i) => n - (i === 0 ? 0 : seen[i - 1]));
      for (const calls of perProbe) expect([1, 2]).toContain(calls);
    } finally {
      await standIn.close();
    }
  }, 180_000);

  it("the runner returns: the breaker closes and both tiers use it again", async () => {
    await stack.startRunner();
    await sleep(BREAKER_OPEN_MS + 200);
    // The latency EWMA may still remember the slow stand-in: standard probes again after its interval.
    let route: string | undefined;
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      route = (await ledger.send(stack.url, "standard", nextImage(), { key })).route;
      if (route === "gpu") break;
      await sleep(500);
    }
    expect(route).toBe("gpu");
    expect(await ledger.send(stack.url, "accurate", nextImage(), { key })).toMatchObject({ status: 200, route: "gpu" });
    expect(await health(stack.url)).toMatchObject({ status: "ok", runner: { breaker: "closed" } });
  }, 180_000);

  it("accounts for every request: sent = answered + failed, and none failed", () => {
    const c = ledger.counts();
    expect(c.sent).toBe(ledger.sent);
    expect(c.answered + c.failed).toBe(c.sent);
    expect(c.ok + c.refused503 + c.otherStatus).toBe(c.answered);
    expect(c.failed).toBe(0);
    expect(c.otherStatus).toBe(0);
    // Only accurate was ever refused; standard always answered.
    expect(ledger.outcomes.filter((o) => o.tier !== "accurate" && o.status !== 200)).toEqual([]);
  });

  it("the processes' logs hold no image bytes, API key or runner secret", async () => {
    // The request log is there (one JSON line per request), so the search is over real output. The
    // last request's line can reach the pipe just after its answer: wait for it, briefly.
    await vi.waitFor(() => expect(logs.filter((l) => l.includes('"path":"/v1/analyze"')).length).toBeGreaterThanOrEqual(ledger.sent), {
      timeout: 5_000,
      interval: 50,
    });
    const all = logs.join("\n");
    // The runner secret the stack made up: on the worker's command line (`--var RUNNER_SECRET:…`).
    const cmdline = readFileSync(`/proc/${stack.processGroups().worker}/cmdline`, "utf8").split("\0");
    const secret = cmdline.find((a) => a.startsWith("RUNNER_SECRET:"))?.slice("RUNNER_SECRET:".length);
    expect(secret?.length).toBeGreaterThanOrEqual(16);
    const image = images[0];
    const mid = image.subarray(image.length >> 1, (image.length >> 1) + 48);
    const needles = [
      key,
      key.slice(3, 20),
      secret!,
      image.toString("base64").slice(100, 164),
      mid.toString("base64").slice(4, 40),
      mid.toString("hex"),
      mid.toString("latin1"),
    ];
    for (const n of needles) expect(all.includes(n), `leaked: ${n.slice(0, 12)}…`).toBe(false);
  });
});
