import * as ort from "onnxruntime-web/wasm";
import type { InferenceBackend } from "./session";
import { wrapOrtSession, type OrtLike } from "./ort-session";

export interface WebBackendOptions {
  /**
   * The precompiled onnxruntime-web WebAssembly module (ort-wasm-simd-threaded.wasm). Required in
   * workerd, which only instantiates modules imported as .wasm and refuses to compile bytes:
   *   import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.wasm";
   *   createWebBackend({ wasmModule: ortWasm });
   * Without it onnxruntime-web fetches and compiles the .wasm itself (browsers).
   */
  wasmModule?: WebAssembly.Module;
}

let initialised: Promise<void> | null = null;

/** onnxruntime-web, WebAssembly CPU execution, single-threaded (workerd has no threads). */
export function createWebBackend(options: WebBackendOptions = {}): InferenceBackend {
  return {
    name: "onnxruntime-web",
    async createSession(model: Uint8Array) {
      initialised ??= initialise(options.wasmModule);
      await initialised;
      const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"], logSeverityLevel: 3 });
      return wrapOrtSession(ort as unknown as OrtLike, session);
    },
  };
}

/**
 * onnxruntime-web only accepts wasm *bytes* (env.wasm.wasmBinary) and hands them to
 * WebAssembly.instantiate. To use a precompiled module instead, give it a sentinel buffer and,
 * for the duration of its start-up only, answer the instantiate call that carries exactly that
 * buffer with an instance of the injected module.
 */
async function initialise(wasmModule: WebAssembly.Module | undefined): Promise<void> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  if (!wasmModule) return;
  const sentinel = new ArrayBuffer(8);
  ort.env.wasm.wasmBinary = sentinel;
  const original = WebAssembly.instantiate;
  const patched = ((source: unknown, imports?: WebAssembly.Imports) => {
    const bytes = source as { buffer?: ArrayBufferLike };
    if (source === sentinel || bytes?.buffer === sentinel) {
      return original(wasmModule, imports).then((instance) => ({ instance, module: wasmModule }));
    }
    return (original as (s: unknown, i?: WebAssembly.Imports) => Promise<unknown>)(source, imports);
  }) as typeof WebAssembly.instantiate;
  WebAssembly.instantiate = patched;
  try {
    // A throwaway session forces the runtime to start while the patch is in place.
    await ort.InferenceSession.create(TINY_MODEL).catch(() => undefined);
  } finally {
    WebAssembly.instantiate = original;
  }
}

/** An empty ONNX ModelProto; creating a session from it is enough to start the runtime. */
const TINY_MODEL = new Uint8Array([0x08, 0x07]);
