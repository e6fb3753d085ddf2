import type { DecodeBudget } from "../budget";
import { ImageError } from "../errors";
import { exifOrientation } from "../exif";
import { ascii } from "../sniff";
import { checkDimensions } from "./dimensions";

export interface PngHeader {
  type: "png";
  width: number;
  height: number;
  orientation: number;
  depth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colorType: number;
  interlaced: boolean;
  /** Where each IDAT chunk's data lies in the file, in order: [offset, length]. */
  idat: [number, number][];
  /** PLTE as RGB triples, and tRNS alpha per palette index (palette images only). */
  palette: Uint8Array | null;
  paletteAlpha: Uint8Array | null;
  /** zlib streams of iCCP, zTXt and compressed iTXt chunks: [offset, length, kind]. */
  metadata: [number, number, "icc" | "text"][];
}

const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

const bad = (why: string) => new ImageError("undecodable", `png: ${why}`);

/**
 * Walks every chunk up to IEND. Refuses: a chunk whose length runs past the body, a first chunk
 * other than IHDR, a second IHDR, invalid IHDR fields, IDAT chunks that are not consecutive,
 * unknown critical chunks, a palette image without PLTE, and a missing IEND (truncation).
 * Ancillary chunks (iCCP, zTXt, iTXt...) are skipped unread: their compressed payloads are never
 * inflated, so a bomb in them costs nothing.
 */
export function pngHeader(b: Uint8Array, budget: DecodeBudget): PngHeader {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let header: Omit<PngHeader, "type" | "orientation" | "idat" | "palette" | "paletteAlpha" | "metadata"> | null = null;
  let orientation = 1;
  const idat: [number, number][] = [];
  let idatClosed = false;
  let palette: Uint8Array | null = null;
  let paletteAlpha: Uint8Array | null = null;
  const metadata: PngHeader["metadata"] = [];
  let o = 8;
  for (;;) {
    if (o + 12 > b.length) throw bad("truncated (no IEND chunk)");
    const length = view.getUint32(o);
    const type = ascii(b, o + 4, 4);
    const data = o + 8;
    if (length > b.length - o - 12) throw bad("a chunk runs past the end of the file");
    if (!header && type !== "IHDR") throw bad("missing IHDR");
    if (type !== "IDAT" && idat.length > 0) idatClosed = true;
    if (type === "IHDR") {
      if (header) throw bad("more than one IHDR");
      if (length !== 13) throw bad("IHDR length");
      const width = view.getUint32(data);
      const height = view.getUint32(data + 4);
      const depth = b[data + 8];
      const colorType = b[data + 9];
      if (!DEPTHS[colorType]?.includes(depth)) throw bad("invalid colour type or bit depth");
      if (b[data + 10] !== 0 || b[data + 11] !== 0 || b[data + 12] > 1) throw bad("invalid compression, filter or interlace method");
      checkDimensions("png", width, height, budget);
      header = { width, height, depth, colorType, interlaced: b[data + 12] === 1 };
    } else if (type === "IDAT") {
      if (idatClosed) throw bad("IDAT chunks are not consecutive");
      idat.push([data, length]);
    } else if (type === "PLTE") {
      if (idat.length > 0 || palette) throw bad("misplaced PLTE");
      if (length % 3 !== 0 || length === 0 || length > 768) throw bad("PLTE length");
      palette = b.subarray(data, data + length);
    } else if (type === "tRNS") {
      if (header?.colorType === 3) paletteAlpha = b.subarray(data, data + Math.min(length, 256));
    } else if (type === "iCCP" || type === "zTXt" || type === "iTXt") {
      const stream = compressedPayload(b, type, data, length);
      if (stream) metadata.push([stream, data + length - stream, type === "iCCP" ? "icc" : "text"]);
    } else if (type === "eXIf") {
      orientation = exifOrientation(b.subarray(data, data + length));
    } else if (type === "IEND") {
      break;
    } else if (!(b[o + 4] & 0x20)) {
      // Bit 5 of the first letter clear: a critical chunk, which a decoder must not skip.
      throw bad("unknown critical chunk");
    }
    o = data + length + 4;
  }
  if (!header) throw bad("missing IHDR");
  if (idat.length === 0) throw bad("no image data");
  if (header.colorType === 3 && !palette) throw bad("palette image without PLTE");
  return { type: "png", ...header, orientation, idat, palette, paletteAlpha, metadata };
}

/** Where the zlib stream of an iCCP, zTXt or iTXt chunk starts (null: iTXt stored uncompressed). */
function compressedPayload(b: Uint8Array, type: string, data: number, length: number): number | null {
  const end = data + length;
  const nul = (from: number) => {
    const i = b.subarray(from, end).indexOf(0);
    if (i < 0) throw bad(`malformed ${type} chunk`);
    return from + i;
  };
  const keyword = nul(data);
  if (keyword - data < 1 || keyword - data > 79) throw bad(`malformed ${type} chunk`);
  if (type !== "iTXt") {
    if (b[keyword + 1] !== 0) throw bad(`unknown ${type} compression`);
    return keyword + 2;
  }
  if (keyword + 3 > end) throw bad("malformed iTXt chunk");
  if (b[keyword + 1] === 0) return null;
  if (b[keyword + 2] !== 0) throw bad("unknown iTXt compression");
  const language = nul(keyword + 3);
  return nul(language + 1) + 1;
}
