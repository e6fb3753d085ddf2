/** DynamicBatcher with a real (tiny) model: each output row is the sum of its input row. */
import { describe, expect, it } from "vitest";
import { CancelledError, DynamicBatcher, QueueFullError, ShuttingDownError, type BatchOutputs, type BatcherOptions } from "../src/batching";

const ROW = 4;
function rowSums(input: Uint8Array, n: number): BatchOutputs {
  const sums = new Float32Array(n);
  for (let i = 0; i < n * ROW; i++) sums[Math.floor(i / ROW)] += input[i];
  return { sum: { dims: [n], data: sums }, twice: { dims: [n, 2], data: Float32Array.from(Array.from(sums).flatMap((s) => [s, 2 * s])) } };
}
const rows = (...values: number[]) => Uint8Array.from(values.flatMap((v) => [v, v, v, v]));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function batcher(options: Partial<BatcherOptions> & { delayMs?: number; fail?: boolean } = {}) {
  const batches: number[] = [];
  const b = new DynamicBatcher({
    maxBatch: 8,
    windowMs: 5,
    maxQueue: 100,
    dynamic: true,
    ...options,
    run: async (input, n) => {
      batches.push(n);
      await sleep(options.delayMs ?? 0);
      if (options.fail) throw new Error("boom");
      return rowSums(input, n);
    },
  });
  return { b, batches };
}

describe("DynamicBatcher", () => {
  it("runs requests that arrive within the window together and splits the rows back", async () => {
    const { b, batches } = batcher();
    const results = await Promise.all([b.submit(rows(1), 1), b.submit(rows(2, 3), 2), b.submit(rows(4), 1)]);
    expect(batches).toEqual([4]);
    expect(results.map((r) => Array.from(r.sum.data as Float32Array))).toEqual([[4], [8, 12], [16]]);
    expect(results[1].twice.dims).toEqual([2, 2]);
    expect(Array.from(results[1].twice.data as Float32Array)).toEqual([8, 16, 12, 24]);
  });

  it("never exceeds maxBatch rows and keeps arrival order", async () => {
    const { b, batches } = batcher({ maxBatch: 4 });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((v) => b.submit(rows(v, v), 2)));
    expect(batches).toEqual([4, 4, 4]);
    expect(results.map((r) => r.sum.data[0])).toEqual([4, 8, 12, 16, 20, 24]);
  });

  it("queues requests that arrive during a run into the next batch", async () => {
    const { b, batches } = batcher({ windowMs: 0, delayMs: 30 });
    const first = b.submit(rows(1), 1);
    await sleep(5);
    const later = await Promise.all([b.submit(rows(2), 1), b.submit(rows(3), 1), b.submit(rows(4), 1)]);
    await first;
    expect(batches).toEqual([1, 3]);
    expect(later.map((r) => r.sum.data[0])).toEqual([8, 12, 16]);
  });

  it("runs each request alone when dynamic batching is off", async () => {
    const { b, batches } = batcher({ dynamic: false });
    await Promise.all([b.submit(rows(1), 1), b.submit(rows(2, 2), 2), b.submit(rows(3), 1)]);
    expect(batches).toEqual([1, 2, 1]);
  });

  it("refuses at once when the queue is full", async () => {
    const { b } = batcher({ maxQueue: 2, windowMs: 0, delayMs: 30 });
    const running = b.submit(rows(1), 1);
    await sleep(5); // the first request is running, not queued
    const queued = [b.submit(rows(2), 1), b.submit(rows(3), 1)];
    await expect(b.submit(rows(4), 1)).rejects.toBeInstanceOf(QueueFullError);
    expect(b.depth).toBe(2);
    await Promise.all([running, ...queued]);
    expect(b.depth).toBe(0);
  });

  it("rejects every request of a failed run", async () => {
    const { b } = batcher({ fail: true });
    const results = await Promise.allSettled([b.submit(rows(1), 1), b.submit(rows(2), 1)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
  });

  it("drain finishes queued work and refuses new work", async () => {
    const { b, batches } = batcher({ maxBatch: 1, windowMs: 50, delayMs: 10 });
    const pending = [1, 2, 3].map((v) => b.submit(rows(v), 1));
    await b.drain();
    expect(batches).toEqual([1, 1, 1]);
    expect((await Promise.all(pending)).map((r) => r.sum.data[0])).toEqual([4, 8, 12]);
    await expect(b.submit(rows(1), 1)).rejects.toBeInstanceOf(ShuttingDownError);
  });

  it("a queued request whose caller went away leaves the queue and never runs", async () => {
    const cancelled: string[] = [];
    const { b, batches } = batcher({ windowMs: 0, delayMs: 30, onCancelled: (stage) => cancelled.push(stage) });
    const running = b.submit(rows(1), 1);
    await sleep(5);
    const gone = new AbortController();
    const abandoned = b.submit(rows(2, 2), 2, gone.signal);
    const kept = b.submit(rows(3), 1);
    expect(b.depth).toBe(2);
    gone.abort();
    await expect(abandoned).rejects.toBeInstanceOf(CancelledError);
    expect(b.depth).toBe(1);
    expect((await kept).sum.data[0]).toBe(12);
    await running;
    // Only the two requests still waited for were run: 1 row, then 1 row (not 3).
    expect(batches).toEqual([1, 1]);
    expect(cancelled).toEqual(["queued"]);
    // Already gone before it was queued: refused at once.
    await expect(b.submit(rows(4), 1, gone.signal)).rejects.toBeInstanceOf(CancelledError);
    expect(cancelled).toEqual(["queued", "queued"]);
  });

  it("a caller that goes away while its batch runs is counted; the batch still answers the others", async () => {
    const cancelled: string[] = [];
    const { b, batches } = batcher({ windowMs: 5, delayMs: 30, onCancelled: (stage) => cancelled.push(stage) });
    const gone = new AbortController();
    const abandoned = b.submit(rows(1), 1, gone.signal);
    const kept = b.submit(rows(2), 1);
    await sleep(15); // both are in the running batch now
    gone.abort();
    expect((await kept).sum.data[0]).toBe(8);
    await abandoned; // its rows came back; nobody reads them
    expect(batches).toEqual([2]);
    expect(cancelled).toEqual(["running"]);
  });
});
