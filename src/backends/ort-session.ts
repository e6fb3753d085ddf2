import type { InputTensor, ModelSession, OutputTensor } from "./session";

/** The subset of the onnxruntime API that -node and -web share (their typings are the same shape). */
export interface OrtLike {
  Tensor: new (type: "uint8" | "float32", data: Uint8Array | Float32Array, dims: readonly number[]) => unknown;
}
interface OrtSessionLike {
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

/** Adapts an onnxruntime InferenceSession (node or web) to `ModelSession`. */
export function wrapOrtSession(ort: OrtLike, session: OrtSessionLike): ModelSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds: Record<string, InputTensor>) {
      const ortFeeds: Record<string, unknown> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      const results = await session.run(ortFeeds);
      const out: Record<string, OutputTensor> = {};
      for (const [name, t] of Object.entries(results)) out[name] = { data: t.data as Float32Array, dims: t.dims };
      return out;
    },
    release: () => session.release(),
  };
}
