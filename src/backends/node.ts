import * as ort from "onnxruntime-node";
import type { InferenceBackend } from "./session";
import { wrapOrtSession, type OrtLike } from "./ort-session";

export interface NodeBackendOptions {
  /** Threads for one session's operators (default: onnxruntime's choice). */
  intraOpNumThreads?: number;
}

/** onnxruntime-node (native CPU). Node only: CLIs, tests, data preparation, bench. */
export function createNodeBackend(options: NodeBackendOptions = {}): InferenceBackend {
  return {
    name: "onnxruntime-node",
    async createSession(model: Uint8Array) {
      const session = await ort.InferenceSession.create(model, {
        logSeverityLevel: 3, // the exported graphs carry unused initialisers; their warnings are noise
        ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
      });
      return wrapOrtSession(ort as unknown as OrtLike, session);
    },
  };
}
