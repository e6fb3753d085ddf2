/**
 * Starts the real runner (gpu-runner/src/main.ts) as a child process on a port the OS picks,
 * and face crops from UTKFace decoded with sharp. Shared by the runner tests and the bench.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { parseModelCard, type ModelCard } from "@faceage/contracts/card";
import { forEachLine } from "../../scripts/lib/processes";
import { DATA_DIR } from "../../test/support/datasets";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** UTKFace's 64 px crops (test/support/datasets.ts says where the datasets are). */
export const UTKFACE_64 = path.join(DATA_DIR, "utkface/64");

/** A served model's card (models/<model>.json): its input size is what the runner checks shapes against. */
export async function readCard(model: string): Promise<ModelCard> {
  return parseModelCard(JSON.parse(await readFile(path.join(REPO_ROOT, "models", `${model}.json`), "utf8")));
}

export interface RunnerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every stdout/stderr line so far. */
  lines: string[];
  /** The JSON log records so far. */
  records(): Record<string, unknown>[];
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export function runnerEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("RUNNER_") && k !== "PORT" && k !== "MODELS") env[k] = v;
  }
  return { ...env, PORT: "0", HOST: "127.0.0.1", ...extra };
}

/** Spawns the runner; resolves once it logs "runner listening", rejects if it exits first. */
export function startRunnerProcess(extraEnv: Record<string, string>, timeoutMs = 90_000): Promise<RunnerProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "gpu-runner/src/main.ts"], {
    cwd: REPO_ROOT,
    env: runnerEnv(extraEnv),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const records = () =>
    lines.flatMap((l) => {
      try {
        const r = JSON.parse(l);
        return r && typeof r === "object" ? [r as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`runner did not start in ${timeoutMs} ms:\n${lines.join("\n")}`));
    }, timeoutMs);
    const onLine = (line: string) => {
      lines.push(line);
      if (!line.startsWith("{")) return;
      try {
        const r = JSON.parse(line);
        if (r.msg === "runner listening") {
          clearTimeout(timer);
          const port = r.port as number;
          resolve({
            url: `http://127.0.0.1:${port}`,
            port,
            child,
            lines,
            records,
            exited,
            stop: (signal = "SIGTERM") => {
              if (child.exitCode === null && child.signalCode === null) child.kill(signal);
              return exited;
            },
          });
        }
      } catch {
        // not a JSON record (native library output)
      }
    };
    forEachLine(child, onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`runner exited with ${code} before listening:\n${lines.join("\n")}`));
    });
  });
}

/** Decodes `count` UTKFace 64x64 crops (sorted by file name, from `offset`) into NHWC uint8 RGB. */
export async function loadFaceCrops(count: number, offset = 0, size = 64): Promise<Uint8Array> {
  const files = (await readdir(UTKFACE_64))
    .filter((f) => f.endsWith(".jpg"))
    .sort()
    .slice(offset, offset + count);
  if (files.length < count) throw new Error(`only ${files.length} crops in ${UTKFACE_64}`);
  const crops = new Uint8Array(count * size * size * 3);
  await Promise.all(
    files.map(async (f, i) => {
      const { data, info } = await sharp(path.join(UTKFACE_64, f))
        .removeAlpha()
        .resize(size, size, { fit: "fill" })
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3 || data.byteLength !== size * size * 3) throw new Error(`${f}: unexpected decode`);
      crops.set(data, i * size * size * 3);
    }),
  );
  return crops;
}

/** Reads one sample (or the sum of a labelled series) out of Prometheus text. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) {
      total += Number(m[4]);
      found = true;
    }
  }
  if (!found) throw new Error(`metric ${name} ${JSON.stringify(labels)} not found`);
  return total;
}
