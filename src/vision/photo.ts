/**
 * An uploaded image opened for the pipeline: its header walked and its cost checked against the
 * budget, then decoded only as finely as each step needs. Detection sees `preview` (the whole image
 * at 1/1, 1/2, 1/4 or 1/8 scale, at least `previewSide` (480) px on its long side); a face that is small
 * in it is re-read at a finer scale through `region`, and only that face's area. For JPEG both
 * come from libjpeg's DCT-domain scaling (a 12 MP photo becomes a 500 px preview without ever
 * existing at 12 MP); PNG rows are averaged into the scale as they are inflated; WebP is decoded
 * once, within the budget, and downscaled.
 */
import { DEFAULT_BUDGET, rgbBytes, type DecodeBudget } from "./budget";
import { ImageError } from "./errors";
import { applyOrientation, inverseOrientation, orientRect, type Rect } from "./exif";
import { readHeader, type ImageHeader, type WebpHeader } from "./header";
import type { RgbImage } from "./image";
import { decodeJpeg, type JpegScale } from "./jpeg";
import { decodePng } from "./png";
import { sniffImageType, type ImageType } from "./sniff";
import { decodeWebP } from "./webp";

export interface OpenOptions {
  budget?: Partial<DecodeBudget>;
  /** Colour that transparent pixels are composited onto. Default white (what a viewer shows). */
  background?: [number, number, number];
  /** The preview's long side is at least this (unless the image is smaller). Default 480: a 4000 px phone photo previews at 1/8. */
  previewSide?: number;
}

/**
 * Pixels of part of the upright image at a reduced scale: view pixel (i, j) covers the full-size
 * area [x + i*scale, x + (i+1)*scale) x [y + j*scale, ...). x, y may be negative when the last
 * scaled pixel of a flipped axis hangs over the image's edge.
 */
export interface View {
  image: RgbImage;
  scale: number;
  x: number;
  y: number;
}

export const DEFAULT_PREVIEW_SIDE = 480;
const SCALES: JpegScale[] = [8, 4, 2, 1];

export class Photo {
  private constructor(
    readonly type: ImageType,
    /** Upright (EXIF-oriented) size in full-resolution pixels. */
    readonly width: number,
    readonly height: number,
    readonly orientation: number,
    readonly preview: View,
    private readonly source: { kind: "scaled"; header: ImageHeader; decode: ScaledDecoder } | { kind: "pixels"; full: View },
  ) {}

  /**
   * Sniffs, walks the header, checks the cost of the preview against the budget and decodes it.
   * Throws ImageError: "unsupported" (not JPEG/PNG/WebP), "too_large" (over the budget),
   * "undecodable" (malformed, truncated, or anything the header walk refuses).
   */
  static async open(bytes: Uint8Array, options: OpenOptions = {}): Promise<Photo> {
    const type = sniffImageType(bytes);
    if (!type) throw new ImageError("unsupported", "not a JPEG, PNG or WebP image");
    const budget = { ...DEFAULT_BUDGET, ...options.budget };
    const header = readHeader(bytes, type, budget);
    const previewSide = options.previewSide ?? DEFAULT_PREVIEW_SIDE;
    const long = Math.max(header.width, header.height);
    const scale = SCALES.find((s) => Math.ceil(long / s) >= previewSide) ?? 1;
    const swap = header.orientation >= 5;
    const [width, height] = swap ? [header.height, header.width] : [header.width, header.height];
    const background = options.background ?? [255, 255, 255];
    if (header.type !== "webp") {
      const decode = scaledDecoder(bytes, header, budget, background);
      const preview = await scaledView(header, decode, scale, null);
      return new Photo(type, width, height, header.orientation, preview, { kind: "scaled", header, decode });
    }
    const full = await decodeWebpWhole(bytes, header, budget, background);
    const image = applyOrientation(full, header.orientation);
    const fullView: View = { image, scale: 1, x: 0, y: 0 };
    const preview: View = scale === 1 ? fullView : { image: boxDownscale(image, scale), scale, x: 0, y: 0 };
    return new Photo(type, width, height, header.orientation, preview, { kind: "pixels", full: fullView });
  }

  /** Pixels already decoded (upright), e.g. a crop made in memory: no decoding, preview at 1/1. */
  static fromPixels(image: RgbImage, type: ImageType = "png"): Photo {
    const full: View = { image, scale: 1, x: 0, y: 0 };
    return new Photo(type, image.width, image.height, 1, full, { kind: "pixels", full });
  }

  /**
   * Pixels covering `box` (upright full-size coordinates, clipped to the image) at the coarsest
   * available scale that is at most `maxScale` full pixels per pixel. JPEG and PNG decode just that
   * area again; WebP answers with the whole image it already holds.
   */
  async region(box: Rect, maxScale: number): Promise<View> {
    if (this.source.kind === "pixels") return this.source.full;
    const scale = SCALES.find((s) => s <= maxScale) ?? 1;
    if (scale >= this.preview.scale) return this.preview;
    const clipped = {
      x0: Math.max(0, box.x0),
      y0: Math.max(0, box.y0),
      x1: Math.min(this.width, box.x1),
      y1: Math.min(this.height, box.y1),
    };
    if (!(clipped.x1 > clipped.x0 && clipped.y1 > clipped.y0)) return this.preview;
    const stored = orientRect(clipped, inverseOrientation(this.orientation), this.width, this.height);
    return scaledView(this.source.header, this.source.decode, scale, stored);
  }
}

interface ScaledRegion {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Decodes 1/scale of the stored image, or only `region` of it (scaled pixels); x, y: where the result starts. */
type ScaledDecoder = (scale: JpegScale, region: ScaledRegion | null) => Promise<RgbImage & { x: number; y: number }>;

/** The format's scaled decoder, each call checked against the budget before it allocates. */
function scaledDecoder(
  bytes: Uint8Array,
  header: Exclude<ImageHeader, WebpHeader>,
  budget: DecodeBudget,
  background: [number, number, number],
): ScaledDecoder {
  return async (scale, region) => {
    const w = region ? region.width + 32 : Math.ceil(header.width / scale);
    const h = region ? region.height : Math.ceil(header.height / scale);
    // JPEG: the output twice (in the decoder's memory, then copied out), the input copy and a
    // progressive file's coefficients. PNG: the output, its sums (4 bytes a sample) and one
    // inflate step's output (4 MB at most) with its queue.
    const cost = header.type === "jpeg" ? rgbBytes(w, h) * 2 + bytes.length + header.workBytes : rgbBytes(w, h) * 5 + 16 * 2 ** 20;
    if (cost > budget.maxBytes)
      throw new ImageError("too_large", `${header.type}: decoding needs ${cost} bytes, over the ${budget.maxBytes}-byte budget`);
    if (header.type === "png") return decodePng(bytes, header, background, { scale, region });
    return decodeJpeg(bytes, { scale, region: region ?? undefined, maxScans: budget.maxScans, maxWorkBytes: budget.maxBytes });
  };
}

/** Decodes at 1/scale, whole or the part covering `stored` (full-size stored coordinates), as an upright View. */
async function scaledView(header: ImageHeader, decode: ScaledDecoder, scale: JpegScale, stored: Rect | null): Promise<View> {
  const sw = Math.ceil(header.width / scale);
  const sh = Math.ceil(header.height / scale);
  const region = stored && {
    x: Math.floor(stored.x0 / scale),
    y: Math.floor(stored.y0 / scale),
    width: Math.ceil(stored.x1 / scale) - Math.floor(stored.x0 / scale),
    height: Math.ceil(stored.y1 / scale) - Math.floor(stored.y0 / scale),
  };
  const pixels = await decode(scale, region);
  if (!region && (pixels.width !== sw || pixels.height !== sh))
    throw new ImageError("undecodable", `${header.type}: decoded size differs from header`);
  // The scaled image covers a virtual stored image of (sw*scale) x (sh*scale) full pixels; its
  // upright placement tells where the real image's origin sits.
  const virtualW = sw * scale;
  const virtualH = sh * scale;
  const o = header.orientation;
  const decoded: Rect = {
    x0: pixels.x * scale,
    y0: pixels.y * scale,
    x1: (pixels.x + pixels.width) * scale,
    y1: (pixels.y + pixels.height) * scale,
  };
  const upright = orientRect(decoded, o, virtualW, virtualH);
  const real = orientRect({ x0: 0, y0: 0, x1: header.width, y1: header.height }, o, virtualW, virtualH);
  return { image: applyOrientation(pixels, o), scale, x: upright.x0 - real.x0, y: upright.y0 - real.y0 };
}

/** WebP in one piece (libwebp through @jsquash/webp has no scaled decoding), within the budget. */
async function decodeWebpWhole(
  bytes: Uint8Array,
  header: WebpHeader,
  budget: DecodeBudget,
  background: [number, number, number],
): Promise<RgbImage> {
  const n = header.width * header.height;
  // libwebp's RGBA in its own memory, the RGBA copied out, our RGB, and the input copy.
  const cost = n * 11 + bytes.length;
  if (cost > budget.maxBytes)
    throw new ImageError("too_large", `webp: decoding needs ${cost} bytes, over the ${budget.maxBytes}-byte budget`);
  const rgba = await decodeWebP(bytes);
  if (rgba.width !== header.width || rgba.height !== header.height)
    throw new ImageError("undecodable", "webp: decoded size differs from header");
  return { width: rgba.width, height: rgba.height, data: compositeRgba(rgba.data, n, background) };
}

function compositeRgba(rgba: ArrayLike<number>, n: number, background: readonly [number, number, number]): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3];
    for (let c = 0; c < 3; c++) {
      const v = rgba[i * 4 + c];
      out[i * 3 + c] = a === 255 ? v : Math.round((v * a + background[c] * (255 - a)) / 255);
    }
  }
  return out;
}

/** Mean of each scale x scale block (the last row and column average what lies inside the image). */
export function boxDownscale(image: RgbImage, scale: number): RgbImage {
  const { width, height, data } = image;
  const w = Math.ceil(width / scale);
  const h = Math.ceil(height / scale);
  const sums = new Float64Array(w * 3);
  const out = new Uint8Array(w * h * 3);
  for (let by = 0; by < h; by++) {
    sums.fill(0);
    const y1 = Math.min(height, (by + 1) * scale);
    for (let y = by * scale; y < y1; y++) {
      const row = y * width * 3;
      for (let x = 0; x < width; x++) {
        const s = row + x * 3;
        const d = ((x / scale) | 0) * 3;
        sums[d] += data[s];
        sums[d + 1] += data[s + 1];
        sums[d + 2] += data[s + 2];
      }
    }
    const rows = y1 - by * scale;
    for (let bx = 0; bx < w; bx++) {
      const n = rows * (Math.min(width, (bx + 1) * scale) - bx * scale);
      for (let c = 0; c < 3; c++) out[(by * w + bx) * 3 + c] = Math.round(sums[bx * 3 + c] / n);
    }
  }
  return { width: w, height: h, data: out };
}
