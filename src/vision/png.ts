/**
 * PNG pixels with bounded memory: the IDAT stream is inflated in small steps (fflate's streaming
 * Unzlib) and each scanline is unfiltered and written straight into the 8-bit RGB output, so the
 * only large buffer is the output itself. Inflating stops the moment the stream yields more than
 * the header's dimensions allow (a zlib bomb of 300 MB behind a 1x1 IHDR costs one step), and
 * ancillary chunks (iCCP, zTXt, iTXt) are never inflated at all.
 */
import { Unzlib } from "fflate";
import { ImageError } from "./errors";
import type { PngHeader } from "./header";
import type { RgbImage } from "./image";

/** Compressed bytes per inflate step: at deflate's ~1032:1 ceiling, one step yields at most ~8 MB. */
const STEP = 8 * 1024;

// Adam7 passes: x0, y0, dx, dy.
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];
const PASSES_NONE = [[0, 0, 1, 1]];

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

interface Pass {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  width: number;
  rows: number;
}

export function decodePng(bytes: Uint8Array, header: PngHeader, background: readonly [number, number, number]): RgbImage {
  checkMetadata(bytes, header);
  const { width, height, depth, colorType } = header;
  const channels = CHANNELS[colorType];
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3); // filter byte distance
  const passes: Pass[] = (header.interlaced ? ADAM7 : PASSES_NONE)
    .map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, width: Math.ceil((width - x0) / dx), rows: Math.ceil((height - y0) / dy) }))
    .filter((p) => p.width > 0 && p.rows > 0);
  const rowBytes = (w: number) => Math.ceil((w * bitsPerPixel) / 8);
  const expected = passes.reduce((s, p) => s + p.rows * (1 + rowBytes(p.width)), 0);

  const out = new Uint8Array(width * height * 3);
  const toRgb = pixelWriter(header, background);
  let pass = 0;
  let row = 0;
  let line = new Uint8Array(1 + rowBytes(passes[0].width));
  let prev = new Uint8Array(line.length);
  let filled = 0;
  let total = 0;

  const take = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total > expected) throw new ImageError("undecodable", "png: image data inflates past the size its header declares");
    let i = 0;
    while (i < chunk.length) {
      const n = Math.min(line.length - filled, chunk.length - i);
      line.set(chunk.subarray(i, i + n), filled);
      filled += n;
      i += n;
      if (filled < line.length) break;
      unfilter(line, prev, bpp);
      const p = passes[pass];
      toRgb(line, p.width, out, (p.y0 + row * p.dy) * width, p.x0, p.dx);
      [line, prev] = [prev, line];
      filled = 0;
      if (++row === p.rows && ++pass < passes.length) {
        row = 0;
        line = new Uint8Array(1 + rowBytes(passes[pass].width));
        prev = new Uint8Array(line.length);
      }
    }
  };

  inflate(bytes, header.idat, take);
  if (total < expected) throw new ImageError("undecodable", "png: image data ends early");
  return { width, height, data: out };
}

/** Most bytes a text chunk may inflate to, and an ICC profile (which also declares its own size). */
const MAX_TEXT = 1 << 20;
const MAX_PROFILE = 4 << 20;

/**
 * Inflates each compressed metadata chunk only to check it, up to what it may hold: an ICC profile
 * up to the size its own header declares (at most 4 MB), text up to 1 MB. A stream that yields more
 * is a bomb, and the file is refused as malformed; the bytes themselves are never kept.
 */
function checkMetadata(bytes: Uint8Array, header: PngHeader): void {
  for (const [offset, length, kind] of header.metadata) {
    let total = 0;
    let cap = kind === "icc" ? MAX_PROFILE : MAX_TEXT;
    inflate(bytes, [[offset, length]], (chunk) => {
      if (kind === "icc" && total < 4 && total + chunk.length >= 4) {
        const head = new Uint8Array(4);
        head.set(chunk.subarray(0, 4 - total), total);
        cap = Math.min(cap, new DataView(head.buffer).getUint32(0));
      }
      total += chunk.length;
      if (total > cap) throw new ImageError("undecodable", `png: ${kind === "icc" ? "iCCP" : "text"} chunk inflates past the size it may have`);
    });
  }
}

/** Streams the zlib data lying at `parts` through `take`, STEP compressed bytes at a time. */
function inflate(bytes: Uint8Array, parts: readonly [number, number][], take: (chunk: Uint8Array) => void): void {
  const inflater = new Unzlib((chunk) => take(chunk));
  try {
    for (const [offset, length] of parts) {
      for (let at = offset; at < offset + length; at += STEP) {
        inflater.push(bytes.subarray(at, Math.min(offset + length, at + STEP)));
      }
    }
    inflater.push(new Uint8Array(0), true);
  } catch (cause) {
    if (cause instanceof ImageError) throw cause;
    throw new ImageError("undecodable", "png: corrupt compressed data", { cause });
  }
}

/** Reverses PNG's per-row filter in place (line[0] is the filter type). */
function unfilter(line: Uint8Array, prev: Uint8Array, bpp: number): void {
  const type = line[0];
  const n = line.length;
  if (type === 0) return;
  if (type === 1) for (let i = 1 + bpp; i < n; i++) line[i] += line[i - bpp];
  else if (type === 2) for (let i = 1; i < n; i++) line[i] += prev[i];
  else if (type === 3) {
    for (let i = 1; i < n; i++) line[i] += ((i > bpp ? line[i - bpp] : 0) + prev[i]) >> 1;
  } else if (type === 4) {
    for (let i = 1; i < n; i++) {
      const a = i > bpp ? line[i - bpp] : 0;
      const b = prev[i];
      const c = i > bpp ? prev[i - bpp] : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      line[i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
  } else throw new ImageError("undecodable", "png: unknown row filter");
}

type PixelWriter = (line: Uint8Array, count: number, out: Uint8Array, rowStart: number, x0: number, dx: number) => void;

/**
 * Writes one unfiltered scanline's pixels as 8-bit RGB: 16-bit samples keep their high byte, 1/2/4-bit
 * grey is rescaled to 0..255, palettes are looked up, and alpha is composited onto `background`.
 */
function pixelWriter(header: PngHeader, background: readonly [number, number, number]): PixelWriter {
  const { depth, colorType } = header;
  const channels = CHANNELS[colorType];
  const step = (channels * depth) >> 3; // bytes per pixel (depth >= 8)
  const hi = depth === 16 ? 2 : 1; // byte stride between samples
  const max = (1 << depth) - 1;
  const palette = header.palette;
  const alpha = header.paletteAlpha;
  const put = (out: Uint8Array, d: number, r: number, g: number, b: number, a: number) => {
    out[d] = blend(r, a, background[0]);
    out[d + 1] = blend(g, a, background[1]);
    out[d + 2] = blend(b, a, background[2]);
  };
  return (line, count, out, rowStart, x0, dx) => {
    for (let k = 0; k < count; k++) {
      const d = (rowStart + x0 + k * dx) * 3;
      if (depth < 8) {
        const bit = k * depth;
        const v = (line[1 + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
        if (colorType === 3) paletteEntry(palette!, alpha, v, out, d, put);
        else {
          const g = Math.round((v * 255) / max);
          out[d] = out[d + 1] = out[d + 2] = g;
        }
        continue;
      }
      const s = 1 + k * step;
      if (colorType === 3) paletteEntry(palette!, alpha, line[s], out, d, put);
      else if (colorType === 0) out[d] = out[d + 1] = out[d + 2] = line[s];
      else if (colorType === 4) put(out, d, line[s], line[s], line[s], line[s + hi]);
      else if (colorType === 2) { out[d] = line[s]; out[d + 1] = line[s + hi]; out[d + 2] = line[s + 2 * hi]; }
      else put(out, d, line[s], line[s + hi], line[s + 2 * hi], line[s + 3 * hi]);
    }
  };
}

function paletteEntry(
  palette: Uint8Array,
  alpha: Uint8Array | null,
  index: number,
  out: Uint8Array,
  d: number,
  put: (out: Uint8Array, d: number, r: number, g: number, b: number, a: number) => void,
): void {
  // An index past the palette is an error in the file; black, as libpng renders it.
  const p = index * 3;
  const [r, g, b] = p + 2 < palette.length ? [palette[p], palette[p + 1], palette[p + 2]] : [0, 0, 0];
  put(out, d, r, g, b, alpha && index < alpha.length ? alpha[index] : 255);
}

function blend(value: number, alpha: number, background: number): number {
  return alpha === 255 ? value : Math.round((value * alpha + background * (255 - alpha)) / 255);
}
