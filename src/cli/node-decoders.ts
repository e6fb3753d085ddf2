/** The JPEG and WebP decoders' WebAssembly for Node (workerd imports the same files as modules: src/worker.ts). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setJpegDecoderModule } from "../vision/jpeg";
import { setWebPDecoderModule } from "../vision/webp";
import { REPO } from "./paths";

export const WEBP_WASM = join(REPO, "node_modules/@jsquash/webp/codec/dec/webp_dec.wasm");
export const JPEG_WASM = join(REPO, "src/vision/jpeg/libjpeg.wasm");

/** Gives the JPEG and WebP decoders their WebAssembly in Node (compiled from the files once). */
export async function initDecodersForNode(): Promise<void> {
  setJpegDecoderModule(await WebAssembly.compile(readFileSync(JPEG_WASM)));
  setWebPDecoderModule(await WebAssembly.compile(readFileSync(WEBP_WASM)));
}
