/**
 * `npm start`'s script as a person runs it: scripts/start.sh in its own terminal-like process
 * group, ready message with the URL, a working page and API, then Ctrl-C (SIGINT to the whole
 * group) stops everything it started.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../../../scripts/lib/processes";
import { REPO_ROOT } from "../../../scripts/lib/repo";
import { facePhotoPath } from "../../support/photos";

/** Live (non-zombie) processes whose command line or environment contains one of the needles. */
function processesMentioning(needles: string[]): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      const text = [readFileSync(`/proc/${entry}/cmdline`, "utf8"), readFileSync(`/proc/${entry}/environ`, "utf8")]
        .join("\0")
        .replaceAll("\0", " ");
      if (needles.some((n) => text.includes(n))) found.push(Number(entry));
    } catch {
      // exited while we looked, or not ours to read
    }
  }
  return found;
}

const state = mkdtempSync(path.join(tmpdir(), "faceage-start-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

it("npm start's script serves the playground and /v1/analyze, and Ctrl-C stops every process it started", async () => {
  const [port, runnerPort] = [await freePort(), await freePort()];
  const child = spawn(
    "bash",
    ["scripts/start.sh", "--port", String(port), "--runner-port", String(runnerPort), "--persist-to", state, "--quiet"],
    {
      cwd: REPO_ROOT,
      // Setup (apt, npm ci) is covered by running `npm start` on a fresh clone; here it must not
      // touch the node_modules other tests are using.
      env: { ...process.env, START_SKIP_SETUP: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true, // its own process group, like a shell job: SIGINT goes to all of it
    },
  );
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d));
  child.stderr!.on("data", (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  try {
    const deadline = Date.now() + 180_000;
    while (!output.includes("Press Ctrl-C") && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 200));
    expect(output).toContain(`Playground:  http://127.0.0.1:${port}/`);
    expect(output).toMatch(/Ready in \d+\.\d s/);

    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("<h1>Face age");
    const res = await fetch(`http://127.0.0.1:${port}/v1/analyze?tier=standard&attributes=age`, {
      method: "POST",
      body: readFileSync(facePhotoPath()),
      headers: { "content-type": "image/jpeg" },
    });
    expect(res.status).toBe(200);
    const analysis = (await res.json()) as { faces: unknown[]; route: string };
    expect(analysis.faces.length).toBeGreaterThanOrEqual(1);
    expect(["gpu", "edge-fallback"]).toContain(analysis.route);

    // wrangler, its workerd and the runner are running, each known by its port.
    const needles = [`--port ${port}`, `127.0.0.1:${port}`, `PORT=${runnerPort} `];
    expect(processesMentioning(needles).length).toBeGreaterThanOrEqual(3);

    process.kill(-child.pid!, "SIGINT"); // what Ctrl-C in a terminal does
    expect(await exited).toBe(0);
    expect(output).toContain("stopped.");
    expect(processesMentioning(needles)).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${runnerPort}/v2/health/ready`)).rejects.toThrow();
  } finally {
    if (child.exitCode === null) process.kill(-child.pid!, "SIGKILL");
  }
}, 240_000);
