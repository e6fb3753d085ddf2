import decodeWebPWasm, { init as initWebPWasm } from "@jsquash/webp/decode.js";
import { ImageError } from "./errors";

let ready: Promise<void> | null = null;
let injected: WebAssembly.Module | null = null;

/**
 * Hands the libwebp decoder its precompiled WebAssembly module. Required in workerd, which
 * refuses to compile WebAssembly from bytes at run time:
 *   import webpWasm from "@jsquash/webp/codec/dec/webp_dec.wasm";  setWebPDecoderModule(webpWasm);
 * In Node compile it from the file once (see src/cli/env.ts `initWebPForNode`); browsers may omit
 * it and let the decoder fetch its own .wasm.
 */
export function setWebPDecoderModule(module: WebAssembly.Module): void {
  // Instantiated on the first WebP, not here: this is typically called at a worker's global scope.
  injected = module;
  ready = null;
}

/** RGBA pixels of a WebP (first frame). Dimensions are checked by the caller from the header. */
export async function decodeWebP(bytes: Uint8Array): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  ready ??= injected ? (initWebPWasm as unknown as (m: WebAssembly.Module) => Promise<void>)(injected) : initWebPWasm();
  try {
    await ready;
  } catch (cause) {
    ready = null;
    throw new Error("WebP decoder could not load its WebAssembly; call setWebPDecoderModule() with the precompiled webp_dec.wasm", { cause });
  }
  // The emscripten binding copies from an ArrayBuffer; hand it exactly this view's bytes.
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
  try {
    const image = await decodeWebPWasm(buffer);
    return { width: image.width, height: image.height, data: image.data };
  } catch (cause) {
    throw new ImageError("undecodable", "webp: corrupt or truncated data", { cause });
  }
}
