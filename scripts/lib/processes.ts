/**
 * Child processes in their own process groups (so stopping one also ends what it started, e.g.
 * npx -> wrangler -> workerd), free ports, and waiting for a health check.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { REPO_ROOT } from "./repo";

/** A port that was free a moment ago (the OS picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Child {
  process: ChildProcess;
  exited: Promise<void>;
}

/** Spawns `command` in the repository root as the leader of a new process group; `onLine` sees each non-empty output line. */
export function spawnGroup(command: string, args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void): Child {
  const child = spawn(command, args, { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  forEachLine(child, (line) => {
    if (line.trim()) onLine(line);
  });
  return { process: child, exited };
}

/** Calls `onLine` with each complete line the child writes to stdout or stderr. */
export function forEachLine(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) onLine(line);
    });
  }
}

export function alive(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/** SIGTERM to the child's whole process group, SIGKILL to it after `graceMs`. */
export async function stopGroup(child: Child, graceMs = 8000): Promise<void> {
  const pid = child.process.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  };
  signalGroup("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalGroup("SIGKILL");
      resolve();
    }, graceMs);
  });
  await Promise.race([child.exited, killed]);
  clearTimeout(timer);
  // The leader may exit before its own children (wrangler's workerd): make sure none are left.
  signalGroup("SIGKILL");
  for (let i = 0; i < 40 && liveProcessesInGroup(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 50));
}

/**
 * The processes of a process group that still run. Zombies do not count: they have exited and
 * only wait for init to reap them (which some container inits never do). Linux only (/proc);
 * elsewhere it reports whether the group exists at all.
 */
export function liveProcessesInGroup(pgid: number): number[] {
  if (!existsSync("/proc/self/stat")) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const live: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces, so split after its ")".
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") live.push(Number(entry));
  }
  return live;
}

/** Polls `url` until it answers 2xx; throws (with `logs()`) when `child` exits first or at `deadline`. */
export async function waitHealthy(url: string, child: Child, name: string, deadline: number, logs: () => string[]): Promise<void> {
  while (Date.now() < deadline) {
    if (!alive(child)) throw new Error(`${name} exited before it was healthy:\n${logs().join("\n")}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${name} not healthy at ${url} in time:\n${logs().join("\n")}`);
}
