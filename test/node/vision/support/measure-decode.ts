/**
 * Child process of hostile.test.ts: decodes each file given on the command line the way the
 * worker does (Photo.open, then one finer re-read of a 600 px area, as for a small face) and
 * prints one JSON line per file: peak RSS and ArrayBuffer growth over the baseline before it, and
 * CPU time. RSS is sampled every millisecond by a worker thread, which keeps running while this
 * thread is busy in synchronous WebAssembly; run with --expose-gc so each file starts from a
 * collected heap.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { initDecodersForNode } from "../../../../src/cli/node-decoders";
import { ImageError, Photo } from "../../../../src/vision";

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const shared = new Int32Array(new SharedArrayBuffer(8)); // [0]: peak RSS in KiB, [1]: 1 = stop
const sampler = new Worker(
  `const { workerData } = require("node:worker_threads");
   const s = workerData;
   const tick = () => { const kb = Math.round(process.memoryUsage.rss() / 1024); if (kb > Atomics.load(s, 0)) Atomics.store(s, 0, kb); };
   const loop = () => { if (Atomics.load(s, 1) === 1) return; tick(); setTimeout(loop, 1); };
   loop();`,
  { eval: true, workerData: shared },
);

await initDecodersForNode();
// Warm-up: the decoders' code paths and instances, so the first file is not charged for them.
const warm = process.argv[2];
if (warm) await Photo.open(readFileSync(warm)).catch(() => undefined);
await new Promise((r) => setTimeout(r, 50));

for (const file of process.argv.slice(3)) {
  const bytes = new Uint8Array(readFileSync(file));
  gc();
  await new Promise((r) => setTimeout(r, 20));
  const rssBefore = process.memoryUsage.rss();
  const abBefore = process.memoryUsage().arrayBuffers;
  Atomics.store(shared, 0, Math.round(rssBefore / 1024));
  const cpu = process.cpuUsage();
  const started = performance.now();
  let outcome = "ok";
  let abPeak = abBefore;
  try {
    const photo = await Photo.open(bytes);
    abPeak = Math.max(abPeak, process.memoryUsage().arrayBuffers);
    const c = { x: photo.width / 2, y: photo.height / 2 };
    await photo.region({ x0: c.x - 300, y0: c.y - 300, x1: c.x + 300, y1: c.y + 300 }, 1);
    abPeak = Math.max(abPeak, process.memoryUsage().arrayBuffers);
  } catch (err) {
    if (!(err instanceof ImageError)) throw err;
    outcome = err.kind;
  }
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 5)); // one more sample after the end
  const peakRss = Atomics.load(shared, 0) * 1024;
  console.log(
    JSON.stringify({
      file,
      outcome,
      rssMB: (peakRss - rssBefore) / 2 ** 20,
      arrayBuffersMB: (abPeak - abBefore) / 2 ** 20,
      cpuMs: (used.user + used.system) / 1000,
      wallMs,
    }),
  );
}
Atomics.store(shared, 1, 1);
await sampler.terminate();
