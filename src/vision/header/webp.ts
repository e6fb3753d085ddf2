import type { DecodeBudget } from "../budget";
import { ImageError } from "../errors";
import { exifOrientation } from "../exif";
import { ascii } from "../sniff";
import { checkDimensions } from "./dimensions";

export interface WebpHeader {
  type: "webp";
  width: number;
  height: number;
  orientation: number;
}

const bad = (why: string) => new ImageError("undecodable", `webp: ${why}`);

/**
 * Walks the RIFF chunks. Refuses: a file shorter than its RIFF size (libwebp renders whatever prefix
 * it gets), chunks that run past the RIFF, animations, a canvas (VP8X) that differs from the
 * bitstream's own frame size, and bad VP8/VP8L signatures. libwebp allocates from the frame size,
 * which must then pass the budget.
 */
export function webpHeader(b: Uint8Array, budget: DecodeBudget): WebpHeader {
  if (b.length < 30) throw bad("truncated header");
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const riffEnd = view.getUint32(4, true) + 8;
  if (b.length < riffEnd) throw bad("truncated (shorter than its RIFF size)");
  const u24 = (o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
  let canvas: { width: number; height: number } | null = null;
  let orientation = 1;
  let frame: { width: number; height: number } | null = null;
  let o = 12;
  while (o + 8 <= riffEnd) {
    const chunk = ascii(b, o, 4);
    const length = view.getUint32(o + 4, true);
    const data = o + 8;
    if (length > riffEnd - data) throw bad("a chunk runs past the end of the file");
    if (chunk === "VP8X") {
      if (o !== 12 || length < 10) throw bad("misplaced VP8X chunk");
      if (b[data] & 0x02) throw bad("animated WebP is not supported");
      canvas = { width: u24(data + 4) + 1, height: u24(data + 7) + 1 };
      checkDimensions("webp", canvas.width, canvas.height, budget);
    } else if (chunk === "EXIF" && orientation === 1) {
      let tiff = b.subarray(data, data + length);
      if (ascii(tiff, 0, 6) === "Exif\0\0") tiff = tiff.subarray(6);
      orientation = exifOrientation(tiff);
    } else if (chunk === "ANIM" || chunk === "ANMF") {
      throw bad("animated WebP is not supported");
    } else if (chunk === "VP8 " || chunk === "VP8L") {
      if (frame) throw bad("more than one image bitstream");
      frame = frameSize(b, chunk, data, length);
      checkDimensions("webp", frame.width, frame.height, budget);
      if (canvas && (canvas.width !== frame.width || canvas.height !== frame.height)) throw bad("canvas and frame sizes differ");
      if (!canvas) break; // a simple file holds nothing else
    }
    o = data + length + (length & 1);
  }
  if (!frame) throw bad("no VP8 or VP8L image data");
  // EXIF sits after the bitstream in extended files.
  return { type: "webp", ...frame, orientation };
}

function frameSize(b: Uint8Array, chunk: string, data: number, length: number): { width: number; height: number } {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (chunk === "VP8 ") {
    if (length < 10 || b[data + 3] !== 0x9d || b[data + 4] !== 0x01 || b[data + 5] !== 0x2a) throw bad("bad VP8 start code");
    return { width: view.getUint16(data + 6, true) & 0x3fff, height: view.getUint16(data + 8, true) & 0x3fff };
  }
  if (length < 5 || b[data] !== 0x2f) throw bad("bad VP8L signature");
  const bits = view.getUint32(data + 1, true);
  return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
}
