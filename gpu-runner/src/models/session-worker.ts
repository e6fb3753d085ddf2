/**
 * Hosts one model's ONNX Runtime session on a worker thread. onnxruntime-node's `run` blocks
 * the calling thread for the whole model run, so on the main thread it would stop the HTTP
 * server from parsing and queueing requests while a batch runs, which is exactly when the next
 * batch should be filling up. Messages: see SessionWorkerMessage / SessionWorkerReply.
 */
import { parentPort, workerData } from "node:worker_threads";
import ort from "onnxruntime-node";

export interface SessionWorkerData {
  name: string;
  weights: Uint8Array;
  providers: string[];
  intraOpThreads: number;
  intraOpSpinning: boolean;
}

export type SessionWorkerMessage =
  | { type: "run"; id: number; input: Uint8Array; shape: number[]; inputName: string }
  | { type: "close" }
  /** Test hook (RUNNER_TEST_HOOKS=1): die the way a thread dies of an uncaught error. */
  | { type: "crash" };

export type SessionWorkerReply =
  | { type: "ready"; provider: string; inputNames: string[]; outputNames: string[]; failures: { provider: string; reason: string }[] }
  | { type: "failed"; failures: { provider: string; reason: string }[] }
  | { type: "result"; id: number; outputs: Record<string, { dims: number[]; type: string; data: Float32Array }> }
  | { type: "error"; id: number; message: string }
  | { type: "closed" };

// ONNX Runtime's native logger writes unstructured lines to stderr; its failures reach us as
// exceptions, which the main thread logs as JSON.
ort.env.logLevel = "fatal";

const port = parentPort!;
const data = workerData as SessionWorkerData;
const post = (reply: SessionWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(reply, transfer);

async function createSession(): Promise<{ session: ort.InferenceSession; provider: string } | undefined> {
  const failures: { provider: string; reason: string }[] = [];
  for (const provider of data.providers) {
    try {
      const session = await ort.InferenceSession.create(data.weights, {
        executionProviders: [provider],
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
        ...(provider === "cpu" && data.intraOpThreads > 0 ? { intraOpNumThreads: data.intraOpThreads } : {}),
        ...(data.intraOpSpinning ? {} : { extra: { session: { intra_op: { allow_spinning: "0" } } } }),
      });
      post({ type: "ready", provider, inputNames: [...session.inputNames], outputNames: [...session.outputNames], failures });
      return { session, provider };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0].slice(0, 200) : String(error);
      failures.push({ provider, reason });
    }
  }
  post({ type: "failed", failures });
  return undefined;
}

const created = await createSession();
if (created) {
  const { session } = created;
  port.on("message", async (message: SessionWorkerMessage) => {
    if (message.type === "crash") {
      setImmediate(() => {
        throw new Error("crash requested by a test hook");
      });
      return;
    }
    if (message.type === "close") {
      await session.release();
      post({ type: "closed" });
      port.close();
      return;
    }
    try {
      const tensor = new ort.Tensor("uint8", message.input, message.shape);
      const results = await session.run({ [message.inputName]: tensor });
      const outputs: Record<string, { dims: number[]; type: string; data: Float32Array }> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(results)) {
        // A copy owned by JS, so its buffer can be transferred rather than cloned.
        const copy = (t.data as Float32Array).slice();
        outputs[name] = { dims: [...t.dims], type: t.type, data: copy };
        transfer.push(copy.buffer);
      }
      post({ type: "result", id: message.id, outputs }, transfer);
    } catch (error) {
      post({ type: "error", id: message.id, message: error instanceof Error ? error.message.slice(0, 300) : String(error) });
    }
  });
} else {
  port.close();
}
