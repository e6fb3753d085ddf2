/**
 * Every file of the hostile corpus (test/fixtures/hostile/, scripts/hostile-corpus.ts) and a
 * 12 MP phone-sized JPEG, decoded the way the worker decodes them, in a child process that samples
 * its own RSS every millisecond: each must stay under the documented budget (64 MB over the
 * baseline; DEFAULT_BUDGET.maxBytes is the decoders' own share) and take under 1 s of CPU.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { expect, it } from "vitest";
import { REPO } from "../../../src/cli/paths";
import type { HostileEntry } from "../../../scripts/hostile-corpus";
import { describeWith } from "../../support/require-data";
import { FACE_PHOTOS, facePhoto } from "./fixtures";

const HOSTILE = join(REPO, "test/fixtures/hostile");
const RSS_BUDGET_MB = 64;
const CPU_BUDGET_MS = 1000;

interface Measurement {
  file: string;
  outcome: string;
  rssMB: number;
  arrayBuffersMB: number;
  cpuMs: number;
}

function measure(warm: string, files: string[]): Measurement[] {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", join(REPO, "test/node/vision/support/measure-decode.ts"), warm, ...files],
    {
      cwd: REPO,
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Measurement);
}

describeWith("decoding stays within its memory and time budget", { data: [FACE_PHOTOS] }, () => {
  it("every hostile file is refused (or its harmless part ignored) within 64 MB and 1 s; a 12 MP JPEG too", async () => {
    const manifest = JSON.parse(readFileSync(join(HOSTILE, "manifest.json"), "utf8")) as HostileEntry[];
    const dir = mkdtempSync(join(tmpdir(), "hostile-"));
    // A phone-sized photo: a real face photo upscaled to 4000x3000, baseline 4:2:0 at quality 92.
    const phone = join(dir, "phone-12mp.jpg");
    writeFileSync(phone, await sharp(facePhoto(3)).resize(4000, 3000, { fit: "fill" }).jpeg({ quality: 92 }).toBuffer());
    const warm = join(dir, "warm.jpg");
    writeFileSync(warm, await sharp(facePhoto(3)).jpeg().toBuffer());
    const results = measure(warm, [...manifest.map((e) => join(HOSTILE, e.file)), phone]);
    const table = results.map(
      (r) =>
        `${r.file.split("/").pop()}: ${r.outcome}, RSS +${r.rssMB.toFixed(1)} MB, ArrayBuffers +${r.arrayBuffersMB.toFixed(1)} MB, CPU ${r.cpuMs.toFixed(0)} ms`,
    );
    console.log(`[hostile/memory]\n${table.join("\n")}`);
    for (const [i, entry] of manifest.entries()) {
      const r = results[i];
      expect(r.outcome === "ok" ? "200" : "4xx", entry.file).toBe(entry.expect);
    }
    for (const r of results) {
      expect(r.rssMB, r.file).toBeLessThan(RSS_BUDGET_MB);
      expect(r.arrayBuffersMB, r.file).toBeLessThan(RSS_BUDGET_MB);
      expect(r.cpuMs, r.file).toBeLessThan(CPU_BUDGET_MS);
    }
    expect(results.at(-1)!.outcome, "the 12 MP photo decodes").toBe("ok");
  });
});
