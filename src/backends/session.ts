/**
 * One interface over an onnxruntime session, so the same pipeline runs on onnxruntime-node (Node,
 * CLIs, tests) and onnxruntime-web (workerd, browsers). Only what the pipeline needs: named inputs
 * in, named float outputs back.
 */
export interface InputTensor {
  type: "uint8" | "float32";
  data: Uint8Array | Float32Array;
  dims: readonly number[];
}

export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, InputTensor>): Promise<Record<string, OutputTensor>>;
  release(): Promise<void>;
}

export interface InferenceBackend {
  /** "onnxruntime-node" or "onnxruntime-web". */
  readonly name: string;
  createSession(model: Uint8Array): Promise<ModelSession>;
}
