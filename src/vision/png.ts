/**
 * PNG pixels with bounded memory: the IDAT stream goes through the runtime's native zlib
 * (DecompressionStream) a few kilobytes at a time, and each scanline is unfiltered, turned into
 * 8-bit RGB and averaged straight into the requested scale and region, so no full-size buffer
 * exists. Inflating stops the moment the stream yields more than the header's dimensions allow (a
 * zlib bomb of 256 MB behind a 1x1 IHDR costs one step); iCCP, zTXt and iTXt streams are inflated
 * only to check them against what they may hold.
 */
import { ImageError } from "./errors";
import type { PngHeader } from "./header";
import type { RgbImage } from "./image";

/** Compressed bytes written per step: at deflate's ~1032:1 ceiling, one step yields at most ~4 MB. */
const STEP = 4 * 1024;

// Adam7 passes: x0, y0, dx, dy.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];
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

/** Which output a decode produces: 1/scale of the image, limited to `region` (scaled, stored coordinates). */
export interface PngRequest {
  scale: number;
  region: { x: number; y: number; width: number; height: number } | null;
}

/** Decoded pixels; x, y: where they start in the scaled image. */
export interface PngPixels extends RgbImage {
  x: number;
  y: number;
}

export async function decodePng(
  bytes: Uint8Array,
  header: PngHeader,
  background: readonly [number, number, number],
  request: PngRequest,
): Promise<PngPixels> {
  await checkMetadata(bytes, header);
  const { width, height, depth, colorType } = header;
  const { scale } = request;
  const sw = Math.ceil(width / scale);
  const sh = Math.ceil(height / scale);
  const r = request.region ?? { x: 0, y: 0, width: sw, height: sh };
  const ox = Math.max(0, Math.min(sw - 1, r.x));
  const oy = Math.max(0, Math.min(sh - 1, r.y));
  const ow = Math.max(1, Math.min(sw - ox, r.width));
  const oh = Math.max(1, Math.min(sh - oy, r.height));
  const sink = new ScaledSink(width, height, scale, ox, oy, ow, oh);

  const channels = CHANNELS[colorType];
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3); // filter byte distance
  const passes: Pass[] = (header.interlaced ? ADAM7 : PASSES_NONE)
    .map(([x0, y0, dx, dy]) => ({ x0, y0, dx, dy, width: Math.ceil((width - x0) / dx), rows: Math.ceil((height - y0) / dy) }))
    .filter((p) => p.width > 0 && p.rows > 0);
  const rowBytes = (w: number) => Math.ceil((w * bitsPerPixel) / 8);
  const expected = passes.reduce((s, p) => s + p.rows * (1 + rowBytes(p.width)), 0);

  const toRgb = pixelWriter(header, background);
  const rgb = new Uint8Array(passes[0].width * 3);
  let pass = 0;
  let row = 0;
  let line = new Uint8Array(1 + rowBytes(passes[0].width));
  let prev = new Uint8Array(line.length);
  let filled = 0;
  let total = 0;
  let finished = false;

  const take = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total > expected) throw new ImageError("undecodable", "png: image data inflates past the size its header declares");
    let i = 0;
    while (i < chunk.length && !finished) {
      const n = Math.min(line.length - filled, chunk.length - i);
      line.set(chunk.subarray(i, i + n), filled);
      filled += n;
      i += n;
      if (filled < line.length) break;
      unfilter(line, prev, bpp);
      const p = passes[pass];
      const y = p.y0 + row * p.dy;
      if (sink.wantsRow(y)) {
        toRgb(line, p.width, rgb);
        sink.addRow(rgb, p.width, y, p.x0, p.dx);
      }
      [line, prev] = [prev, line];
      filled = 0;
      // Rows come in order without interlacing: once past the region, the rest is not needed.
      if (!header.interlaced && y + 1 >= sink.lastRow) finished = true;
      if (++row === p.rows && ++pass < passes.length) {
        row = 0;
        line = new Uint8Array(1 + rowBytes(passes[pass].width));
        prev = new Uint8Array(line.length);
      }
      if (pass === passes.length) finished = true;
    }
  };
  await inflate(bytes, header.idat, take, () => finished);
  if (!finished) throw new ImageError("undecodable", "png: image data ends early");
  return { ...sink.image(), x: ox, y: oy };
}

/**
 * Averages full-resolution pixels into the scale x scale blocks of the output region: sums per
 * output pixel, divided by how many image pixels each block holds (fewer at the right and bottom edges).
 */
class ScaledSink {
  private readonly sums: Uint32Array;
  private readonly y0: number;
  /** One past the last image row the region needs. */
  readonly lastRow: number;

  constructor(
    private readonly width: number,
    private readonly height: number,
    private readonly scale: number,
    private readonly ox: number,
    private readonly oy: number,
    private readonly ow: number,
    private readonly oh: number,
  ) {
    this.sums = new Uint32Array(ow * oh * 3);
    this.y0 = oy * scale;
    this.lastRow = Math.min(height, (oy + oh) * scale);
  }

  wantsRow(y: number): boolean {
    return y >= this.y0 && y < this.lastRow;
  }

  /** Pixels of image row y at x = x0 + k * dx (k < count), RGB in `rgb`. */
  addRow(rgb: Uint8Array, count: number, y: number, x0: number, dx: number): void {
    const { scale, ox, ow, sums } = this;
    const base = (((y / scale) | 0) - this.oy) * ow;
    const xa = ox * scale;
    const xb = Math.min(this.width, (ox + ow) * scale);
    const k0 = Math.max(0, Math.ceil((xa - x0) / dx));
    for (let k = k0; k < count; k++) {
      const x = x0 + k * dx;
      if (x >= xb) break;
      const d = (base + ((x / scale) | 0) - ox) * 3;
      sums[d] += rgb[k * 3];
      sums[d + 1] += rgb[k * 3 + 1];
      sums[d + 2] += rgb[k * 3 + 2];
    }
  }

  image(): RgbImage {
    const { scale, ox, oy, ow, oh, sums, width, height } = this;
    const out = new Uint8Array(ow * oh * 3);
    for (let j = 0; j < oh; j++) {
      const rows = Math.min(height, (oy + j + 1) * scale) - (oy + j) * scale;
      for (let i = 0; i < ow; i++) {
        const n = rows * (Math.min(width, (ox + i + 1) * scale) - (ox + i) * scale);
        const d = (j * ow + i) * 3;
        out[d] = Math.round(sums[d] / n);
        out[d + 1] = Math.round(sums[d + 1] / n);
        out[d + 2] = Math.round(sums[d + 2] / n);
      }
    }
    return { width: ow, height: oh, data: out };
  }
}

/** Most bytes a text chunk may inflate to, and an ICC profile (which also declares its own size). */
const MAX_TEXT = 1 << 20;
const MAX_PROFILE = 4 << 20;

/**
 * Inflates each compressed metadata chunk only to check it, up to what it may hold: an ICC profile
 * up to the size its own header declares (at most 4 MB), text up to 1 MB. A stream that yields more
 * is a bomb, and the file is refused as malformed; the bytes themselves are never kept.
 */
async function checkMetadata(bytes: Uint8Array, header: PngHeader): Promise<void> {
  for (const [offset, length, kind] of header.metadata) {
    let total = 0;
    let cap = kind === "icc" ? MAX_PROFILE : MAX_TEXT;
    await inflate(bytes, [[offset, length]], (chunk) => {
      if (kind === "icc" && total < 4 && total + chunk.length >= 4) {
        const head = new Uint8Array(4);
        head.set(chunk.subarray(0, 4 - total), total);
        cap = Math.min(cap, new DataView(head.buffer).getUint32(0));
      }
      total += chunk.length;
      if (total > cap)
        throw new ImageError("undecodable", `png: ${kind === "icc" ? "iCCP" : "text"} chunk inflates past the size it may have`);
    });
  }
}

/**
 * Streams the zlib data lying at `parts` through native inflate into `take`, STEP compressed bytes
 * at a time, reading each step's output before writing the next (so at most one step's output is
 * ever queued). `enough` ends it early. An error thrown by `take` cancels the stream and propagates.
 */
async function inflate(
  bytes: Uint8Array,
  parts: readonly [number, number][],
  take: (chunk: Uint8Array) => void,
  enough: () => boolean = () => false,
): Promise<void> {
  const stream = new DecompressionStream("deflate");
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const writing = (async () => {
    for (const [offset, length] of parts) {
      for (let at = offset; at < offset + length; at += STEP) {
        await writer.ready;
        await writer.write(bytes.slice(at, Math.min(offset + length, at + STEP)));
      }
    }
    await writer.close();
  })();
  writing.catch(() => undefined);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      take(value);
      if (enough()) break;
    }
  } catch (cause) {
    await reader.cancel().catch(() => undefined);
    await writer.abort().catch(() => undefined);
    if (cause instanceof ImageError) throw cause;
    throw new ImageError("undecodable", "png: corrupt compressed data", { cause });
  }
  await reader.cancel().catch(() => undefined);
  await writer.abort().catch(() => undefined);
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
      const pa = Math.abs(p - a),
        pb = Math.abs(p - b),
        pc = Math.abs(p - c);
      line[i] += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
  } else throw new ImageError("undecodable", "png: unknown row filter");
}

type PixelWriter = (line: Uint8Array, count: number, out: Uint8Array) => void;

/**
 * Writes one unfiltered scanline's pixels densely as 8-bit RGB: 16-bit samples keep their high byte, 1/2/4-bit
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
  return (line, count, out) => {
    for (let k = 0; k < count; k++) {
      const d = k * 3;
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
      else if (colorType === 2) {
        out[d] = line[s];
        out[d + 1] = line[s + hi];
        out[d + 2] = line[s + 2 * hi];
      } else put(out, d, line[s], line[s + hi], line[s + 2 * hi], line[s + 3 * hi]);
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
