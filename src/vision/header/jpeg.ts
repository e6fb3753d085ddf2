import { jpegCoefficientBytes, jpegComponentBlocks, type DecodeBudget } from "../budget";
import { ImageError } from "../errors";
import { exifOrientation } from "../exif";
import { ascii } from "../sniff";
import { checkDimensions } from "./dimensions";

export interface JpegHeader {
  type: "jpeg";
  /** As stored (before EXIF orientation). */
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1 = as stored). */
  orientation: number;
  progressive: boolean;
  /** Sampling factors per component (1, 3 or 4 components). */
  sampling: { h: number; v: number }[];
  scans: number;
  /** Bytes of whole-image arrays libjpeg will allocate (progressive coefficients; 0 for baseline). */
  workBytes: number;
}

// Huffman-coded frames only: baseline, extended sequential, progressive. Lossless, hierarchical and
// arithmetic-coded JPEGs are rare in photos and are not built into the decoder.
const SUPPORTED_FRAMES = new Set([0xc0, 0xc1, 0xc2]);
const isFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

const bad = (why: string) => new ImageError("undecodable", `jpeg: ${why}`);

/**
 * Walks every marker segment, and past each scan's entropy-coded data to the next marker, up to
 * EOI. Refuses: a second frame header (or one after a scan), a scan before the frame, more than 4
 * (or 2) components, sampling factors a decoder cannot upsample, precision other than 8 bits,
 * segments that run past the end, a missing EOI (truncation), and more scans (or scan work) than
 * the budget.
 */
export function jpegHeader(b: Uint8Array, budget: DecodeBudget): JpegHeader {
  let orientation = 1;
  let frame: Omit<JpegHeader, "type" | "orientation" | "scans" | "workBytes"> | null = null;
  let componentIds: number[] = [];
  let blocks: number[] = [];
  let scanWork = 0;
  let scans = 0;
  let o = 2;
  for (;;) {
    if (o + 2 > b.length) throw bad("truncated (no end-of-image marker)");
    if (b[o] !== 0xff) throw bad("corrupt marker segment");
    const marker = b[o + 1];
    if (marker === 0xff) {
      o++;
      continue;
    } // fill byte
    o += 2;
    if (marker === 0xd9) break; // EOI
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // standalone markers
    if (marker === 0xd8) throw bad("second start-of-image marker");
    if (o + 2 > b.length) throw bad("truncated (no end-of-image marker)");
    const length = (b[o] << 8) | b[o + 1];
    const body = o + 2;
    const end = o + length;
    if (length < 2 || end > b.length) throw bad("a segment runs past the end of the file");

    if (isFrame(marker)) {
      if (frame) throw bad(scans > 0 ? "a frame header after a scan" : "more than one frame header");
      if (!SUPPORTED_FRAMES.has(marker)) throw bad("lossless, hierarchical or arithmetic-coded JPEG is not supported");
      if (length < 8) throw bad("short frame header");
      if (b[body] !== 8) throw bad(`${b[body]}-bit samples (8 supported)`);
      const height = (b[body + 1] << 8) | b[body + 2];
      const width = (b[body + 3] << 8) | b[body + 4];
      const n = b[body + 5];
      if (n !== 1 && n !== 3 && n !== 4) throw bad(`${n} components (1, 3 or 4 supported)`);
      if (length !== 8 + 3 * n) throw bad("frame header length does not match its components");
      if (height === 0) throw bad("height defined later in the file (DNL) is not supported");
      checkDimensions("jpeg", width, height, budget);
      const sampling: { h: number; v: number }[] = [];
      componentIds = [];
      for (let i = 0; i < n; i++) {
        const c = body + 6 + 3 * i;
        const h = b[c + 1] >> 4;
        const v = b[c + 1] & 15;
        if (componentIds.includes(b[c])) throw bad("duplicate component id");
        if (h < 1 || h > 4 || v < 1 || v > 4 || b[c + 2] > 3) throw bad("sampling factor or table out of range");
        componentIds.push(b[c]);
        sampling.push({ h, v });
      }
      checkSampling(sampling);
      frame = { width, height, progressive: marker === 0xc2, sampling };
      blocks = jpegComponentBlocks(width, height, sampling);
    } else if (marker === 0xda) {
      if (!frame) throw bad("a scan before the frame header");
      const n = b[body];
      if (n < 1 || n > 4 || length !== 6 + 2 * n) throw bad("scan header length does not match its components");
      for (let i = 0; i < n; i++) {
        const c = componentIds.indexOf(b[body + 1 + 2 * i]);
        if (c < 0) throw bad("a scan names a component the frame lacks");
        scanWork += blocks[c];
      }
      scans++;
      if (scans > budget.maxScans) throw new ImageError("too_large", `jpeg: more than ${budget.maxScans} scans`);
      // Each scan is a pass over the blocks of its components: bound the sum, not only the count.
      const allBlocks = blocks.reduce((a, x) => a + x, 0);
      if (scanWork > budget.maxScanPasses * allBlocks)
        throw new ImageError("too_large", `jpeg: its scans add up to more than ${budget.maxScanPasses} passes over the image`);
      o = skipEntropyData(b, end);
      continue;
    } else if (marker === 0xdc) {
      throw bad("DNL marker is not supported");
    } else if (marker === 0xe1 && orientation === 1 && length >= 8 && ascii(b, body, 6) === "Exif\0\0") {
      orientation = exifOrientation(b.subarray(body + 6, end));
    }
    o = end;
  }
  if (!frame) throw bad("no frame header");
  if (scans === 0) throw bad("no scan");
  const workBytes = frame.progressive ? jpegCoefficientBytes(frame.width, frame.height, frame.sampling) : 0;
  if (workBytes > budget.maxBytes) {
    throw new ImageError(
      "too_large",
      `jpeg: a progressive ${frame.width}x${frame.height} file needs ${workBytes} bytes of coefficients, over the ${budget.maxBytes}-byte budget`,
    );
  }
  return { type: "jpeg", ...frame, orientation, scans, workBytes };
}

/**
 * Sampling a decoder can upsample: every factor divides the largest (2x2 luma with 1x1 chroma,
 * 2x1, 1x2, 4x1...), and at most 10 blocks per MCU, the standard's limit.
 */
function checkSampling(sampling: readonly { h: number; v: number }[]): void {
  if (sampling.length === 1) return; // a single component is never interleaved: its factors are ignored
  const hmax = Math.max(...sampling.map((c) => c.h));
  const vmax = Math.max(...sampling.map((c) => c.v));
  let blocks = 0;
  for (const { h, v } of sampling) {
    if (hmax % h !== 0 || vmax % v !== 0) throw bad("fractional sampling factors");
    blocks += h * v;
  }
  if (blocks > 10) throw bad("more than 10 blocks per MCU");
}

/** Offset of the first marker after a scan's entropy-coded data (FF00 is a stuffed byte, FFD0..FFD7 restarts). */
function skipEntropyData(b: Uint8Array, from: number): number {
  let p = from;
  for (;;) {
    p = b.indexOf(0xff, p);
    if (p < 0 || p + 1 >= b.length) throw bad("truncated (no end-of-image marker)");
    const next = b[p + 1];
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) p += 2;
    else if (next === 0xff) p += 1;
    else return p;
  }
}
