/**
 * JPEG pixels from libjpeg-turbo compiled to WebAssembly (native/jpeg/: decode.c, build.sh),
 * decoded at a DCT-domain scale (1/1, 1/2, 1/4, 1/8) and optionally only a region.
 *
 * Each call gets a fresh instance of the precompiled module: its linear memory has a fixed
 * maximum (56 MiB), so no JPEG can make the decoder allocate past it, and whatever one image made
 * it allocate is garbage as soon as the call returns (an instance kept between calls would keep
 * its high-water mark for good). Instantiating a compiled module costs well under a millisecond.
 */
import { ImageError } from "../errors";
import type { RgbImage } from "../image";

let compiled: WebAssembly.Module | null = null;

/**
 * Hands the decoder its precompiled module (src/vision/jpeg/libjpeg.wasm). workerd only runs
 * modules imported as .wasm: `import jpegWasm from "./vision/jpeg/libjpeg.wasm"`. Node compiles
 * the file (src/cli/node-decoders.ts `initDecodersForNode`).
 */
export function setJpegDecoderModule(module: WebAssembly.Module): void {
  compiled = module;
}

export type JpegScale = 1 | 2 | 4 | 8;

export interface JpegRequest {
  /** Output is ceil(width / scale) x ceil(height / scale). */
  scale: JpegScale;
  /** Only these output pixels (stored orientation, scaled coordinates); the whole image when absent. */
  region?: { x: number; y: number; width: number; height: number };
  /** Most scans a (progressive) file may have. */
  maxScans: number;
  /** Bytes libjpeg may use for its whole-image arrays (a progressive file's coefficients). */
  maxWorkBytes: number;
}

/** Decoded pixels; x, y: where they start in the scaled image (libjpeg widens a region leftwards to whole blocks). */
export interface JpegPixels extends RgbImage {
  x: number;
  y: number;
  /** Corrupt-data warnings libjpeg stepped over. */
  warnings: number;
}

/** Thrown by the host import that libjpeg's error_exit calls; unwinds through the WebAssembly frames. */
class LibjpegFailure extends Error {
  constructor(readonly code: number) {
    super(`libjpeg error ${code}`);
  }
}

const TOO_MANY_SCANS = -1;
// libjpeg's JERR_OUT_OF_MEMORY and JERR_NO_BACKING_STORE (jerror.h, 2.1.5): over a memory budget.
const OUT_OF_MEMORY = new Set([54, 49, -3]);

export function decodeJpeg(bytes: Uint8Array, request: JpegRequest): JpegPixels {
  if (!compiled) throw new Error("JPEG decoder has no WebAssembly module; call setJpegDecoderModule() with libjpeg.wasm");
  const fail = (code: number) => {
    throw new LibjpegFailure(code);
  };
  const nosys = () => 52; // WASI ENOSYS: libjpeg never gets to print or exit
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(compiled, {
      env: { fail },
      wasi_snapshot_preview1: { fd_close: nosys, fd_seek: nosys, fd_write: nosys, proc_exit: fail },
    });
  } catch (cause) {
    throw new ImageError("undecodable", "jpeg: decoder could not start", { cause });
  }
  const exports = instance.exports as {
    memory: WebAssembly.Memory;
    jd_alloc(size: number): number;
    jd_decode(
      src: number,
      len: number,
      denom: number,
      rx: number,
      ry: number,
      rw: number,
      rh: number,
      scans: number,
      memLimit: number,
    ): number;
  };
  try {
    const src = exports.jd_alloc(bytes.length);
    if (src === 0) throw new ImageError("too_large", "jpeg: file larger than the decoder's memory");
    new Uint8Array(exports.memory.buffer, src, bytes.length).set(bytes);
    const r = request.region;
    const at = exports.jd_decode(
      src,
      bytes.length,
      request.scale,
      r?.x ?? 0,
      r?.y ?? 0,
      r?.width ?? 0,
      r?.height ?? 0,
      request.maxScans,
      request.maxWorkBytes,
    );
    const [width, height, x, y, warnings, data] = new Uint32Array(exports.memory.buffer, at, 6);
    return { width, height, x, y, warnings, data: new Uint8Array(exports.memory.buffer, data, width * height * 3).slice() };
  } catch (err) {
    if (err instanceof ImageError) throw err;
    if (err instanceof LibjpegFailure) {
      if (err.code === TOO_MANY_SCANS) throw new ImageError("too_large", `jpeg: more than ${request.maxScans} scans`);
      if (OUT_OF_MEMORY.has(err.code)) throw new ImageError("too_large", "jpeg: over the decoder's memory budget");
      throw new ImageError("undecodable", `jpeg: corrupt data (libjpeg error ${err.code})`);
    }
    // A trap (e.g. memory.grow refused at the maximum inside malloc, then a null write) is the same budget.
    if (err instanceof WebAssembly.RuntimeError)
      throw new ImageError("too_large", "jpeg: over the decoder's memory budget", { cause: err });
    throw err;
  }
}
