import decodeWebPWasm, { init as initWebPWasm } from "@jsquash/webp/decode.js";
import { ImageError } from "./errors";

let ready: Promise<void> | null = null;
let injected: WebAssembly.Module | null = null;

/** Above this many pixels the decoder's instance is dropped after use (see decodeWebP). */
const RECYCLE_PIXELS = 1_000_000;

/**
 * Hands the libwebp decoder its precompiled WebAssembly module. Required in workerd, which
 * refuses to compile WebAssembly from bytes at run time:
 *   import webpWasm from "@jsquash/webp/codec/dec/webp_dec.wasm";  setWebPDecoderModule(webpWasm);
 * In Node compile it from the file once (see src/cli/node-decoders.ts `initDecodersForNode`); browsers may omit
 * it and let the decoder fetch its own .wasm.
 */
export function setWebPDecoderModule(module: WebAssembly.Module): void {
  // Instantiated on the first WebP, not here: this is typically called at a worker's global scope.
  injected = module;
  ready = null;
}

/**
 * RGBA pixels of a WebP (first frame). Dimensions and cost are checked by the caller from the
 * header (libwebp allocates from the frame size). An emscripten instance never gives memory back,
 * so after a large image the instance is dropped and the next WebP gets a fresh one: one big
 * upload must not keep tens of megabytes of the isolate for good.
 */
export async function decodeWebP(bytes: Uint8Array): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  ready ??= injected ? (initWebPWasm as unknown as (m: WebAssembly.Module) => Promise<void>)(injected) : initWebPWasm();
  try {
    await ready;
  } catch (cause) {
    ready = null;
    throw new Error("WebP decoder could not load its WebAssembly; call setWebPDecoderModule() with the precompiled webp_dec.wasm", {
      cause,
    });
  }
  // The emscripten binding copies from an ArrayBuffer; hand it exactly this view's bytes.
  const buffer =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (bytes.slice().buffer as ArrayBuffer);
  try {
    const image = await decodeWebPWasm(buffer);
    if (image.width * image.height > RECYCLE_PIXELS) ready = null;
    return { width: image.width, height: image.height, data: image.data };
  } catch (cause) {
    ready = null;
    throw new ImageError("undecodable", "webp: corrupt or truncated data", { cause });
  }
}
