/**
 * Faults injected under a continuous `standard` load (issue 12), each measured as windows of that
 * one load: before the fault, while it lasts, and after it. What is reported is `standard`'s route
 * mix (how much of it the runner still answered) and its p50/p99.
 *
 * 1. accurate timeouts: `accurate` callers whose runner calls never answer in time (the fault
 *    proxy holds every call of 2 or more crops, i.e. accurate's flipped ones, past the deadline)
 *    while `standard`'s one-crop calls are served normally;
 * 2. a model session thread killed (the runner's test hook) and restarted by the runner itself;
 * 3. the runner process killed (SIGKILL) and started again.
 */
import { liveProcessesInGroup } from "../../scripts/lib/processes";
import type { Stack } from "../../scripts/lib/stack";
import { type startLoad, summarize, type LoadSpec, type Sample, type WindowSummary } from "./timeline";

export interface FaultBench {
  stack: Stack;
  /** Control URL of the fault proxy's virtual runner the worker calls (`.../control/<name>`). */
  faultControl: string;
  /** The real runner, behind the proxy, and its bearer secret (for the test hook). */
  runnerUrl: string;
  runnerSecret: string;
  load: (query: string, connections: number, extra?: Partial<LoadSpec>) => ReturnType<typeof startLoad>;
  windowS: number;
  standardConnections: number;
  accurateDeadlineMs: number;
}

export interface ScenarioWindow {
  name: string;
  summary: WindowSummary;
}

export interface ScenarioResult {
  name: string;
  windows: ScenarioWindow[];
  /** Free-form facts of the run (e.g. accurate's outcomes, time to serve again). */
  notes: string[];
}

const ACCURATE_CALLERS = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setFault(b: FaultBench, fault: Record<string, unknown>): Promise<void> {
  const res = await fetch(b.faultControl, { method: "POST", body: JSON.stringify(fault) });
  if (!res.ok) throw new Error(`fault control answered ${res.status}`);
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(100);
  }
  return false;
}

const ready = (b: FaultBench) => async () => (await fetch(`${b.runnerUrl}/v2/health/ready`, { signal: AbortSignal.timeout(2000) })).ok;

/** The first `gpu` answer that started at or after `from` (ms on the load's clock), if any. */
function firstGpuAfter(samples: Sample[], from: number): number | undefined {
  return samples.filter((s) => s.start >= from && s.route === "gpu").sort((a, b) => a.start - b.start)[0]?.start;
}

/** A window after `t2`, then the load's samples and its three windows: before `t1`, `during` (`t1` to `t2`), after. */
async function windowsAround(
  standard: ReturnType<typeof startLoad>,
  w: number,
  t1: number,
  t2: number,
  during: string,
): Promise<{ samples: Sample[]; windows: ScenarioWindow[] }> {
  await sleep(w);
  const t3 = standard.now();
  const samples = await standard.stop();
  return {
    samples,
    windows: [
      { name: "before", summary: summarize(samples, 1000, t1) },
      { name: during, summary: summarize(samples, t1, t2) },
      { name: "after", summary: summarize(samples, t2, t3) },
    ],
  };
}

export async function accurateTimeouts(b: FaultBench): Promise<ScenarioResult> {
  const w = b.windowS * 1000;
  const standard = b.load("tier=standard", b.standardConnections);
  await sleep(w);
  const t1 = standard.now();
  // Every runner call of accurate (2 crops per face) is held 30 s: each accurate request times out at its deadline.
  await setFault(b, { mode: "slow", delayMs: 30_000, minRows: 2 });
  // Impatient accurate clients: they wait at most 1 s of a 503's Retry-After before trying again.
  const accurate = b.load("tier=accurate", ACCURATE_CALLERS, { honourRetryAfterMs: 1000 });
  await sleep(w);
  const t2 = standard.now();
  const accurateSamples = await accurate.stop();
  await setFault(b, { mode: "pass" });
  await sleep(w);
  const t3 = standard.now();
  const samples = await standard.stop();
  const acc = summarize(accurateSamples, 0, Infinity);
  const timedOut = accurateSamples.filter((s) => s.status === 503 && s.end - s.start >= b.accurateDeadlineMs - 500).length;
  return {
    name: "accurate timeouts mixed with standard load",
    windows: [
      { name: "before (standard alone)", summary: summarize(samples, 1000, t1) },
      { name: `during (+${ACCURATE_CALLERS} accurate callers timing out)`, summary: summarize(samples, t1, t2) },
      { name: "after (accurate stopped)", summary: summarize(samples, t2, t3) },
    ],
    notes: [
      `accurate meanwhile: ${acc.requests} requests (${Object.entries(acc.routes)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}), ${timedOut} of them waited out the ${b.accurateDeadlineMs / 1000} s deadline`,
    ],
  };
}

export async function sessionKilled(b: FaultBench): Promise<ScenarioResult> {
  const w = b.windowS * 1000;
  const standard = b.load("tier=standard", b.standardConnections);
  await sleep(w);
  const t1 = standard.now();
  const crash = await fetch(`${b.runnerUrl}/v2/test/models/ThinAgeNet/crash-session`, {
    method: "POST",
    headers: { authorization: `Bearer ${b.runnerSecret}` },
  });
  if (crash.status !== 202) {
    await standard.stop();
    return { name: "model session thread killed", windows: [], notes: [`not run: the runner has no crash hook (HTTP ${crash.status})`] };
  }
  const down = await until(async () => !(await ready(b)()), 5000);
  const back = await until(ready(b), 60_000);
  const t2 = standard.now();
  const { samples, windows } = await windowsAround(standard, w, t1, t2, "session down, until ready again");
  const firstGpu = firstGpuAfter(samples, t2);
  return {
    name: "model session thread killed (ThinAgeNet), restarted by the runner",
    windows,
    notes: [
      `readiness went down: ${down}; ready again ${back ? `${((t2 - t1) / 1000).toFixed(1)} s after the kill` : "never (within 60 s)"}`,
      `first standard answer from the runner ${firstGpu === undefined ? "never" : `${((firstGpu - t1) / 1000).toFixed(1)} s`} after the kill`,
    ],
  };
}

export async function runnerKilled(b: FaultBench): Promise<ScenarioResult> {
  const w = b.windowS * 1000;
  const standard = b.load("tier=standard", b.standardConnections);
  await sleep(w);
  const t1 = standard.now();
  const pgid = b.stack.processGroups().runner!;
  process.kill(-pgid, "SIGKILL");
  await until(async () => liveProcessesInGroup(pgid).length === 0, 10_000);
  await sleep(100); // the child's exit event, so the stack sees it gone
  await b.stack.startRunner();
  const t2 = standard.now();
  const { samples, windows } = await windowsAround(standard, w, t1, t2, "runner down, until started and ready");
  const firstGpu = firstGpuAfter(samples, t2);
  return {
    name: "runner process killed (SIGKILL) and started again",
    windows,
    notes: [
      `runner ready again ${((t2 - t1) / 1000).toFixed(1)} s after the kill (a new process loading its models)`,
      `first standard answer from the runner ${firstGpu === undefined ? "never" : `${((firstGpu - t2) / 1000).toFixed(1)} s`} after it was ready (the breaker's open period, then a probe)`,
    ],
  };
}
