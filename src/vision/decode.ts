import { DEFAULT_BUDGET, type DecodeBudget } from "./budget";
import type { RgbImage } from "./image";
import { Photo } from "./photo";
import type { ImageType } from "./sniff";

export interface DecodeOptions {
  /** Largest width*height accepted, checked from the header before any pixel buffer exists. Default 25 MP. */
  maxPixels?: number;
  /** The rest of the decode budget (bytes, side, scans); see src/vision/budget.ts. */
  budget?: Partial<DecodeBudget>;
  /** Colour that transparent pixels are composited onto. Default white (what a viewer shows). */
  background?: [number, number, number];
}

export interface DecodedImage extends RgbImage {
  type: ImageType;
  /** EXIF orientation that was applied (1 = none). */
  orientation: number;
}

export const DEFAULT_MAX_PIXELS = DEFAULT_BUDGET.maxPixels;

/**
 * Bytes -> upright 8-bit RGB at full resolution. JPEG (baseline, progressive, grey, CMYK), PNG
 * (grey, alpha, palette, 16-bit, interlaced) and WebP; EXIF orientation applied. The pipeline uses
 * Photo (./photo.ts), which decodes only as finely as needed; this is for the CLIs and tests that
 * want every pixel, under the same budget (so a full-size decode of a large photo may be refused).
 * Throws `ImageError`: "unsupported" for any other format, "too_large" over the budget,
 * "undecodable" for corrupt/truncated data.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedImage> {
  const budget = { ...options.budget, ...(options.maxPixels ? { maxPixels: options.maxPixels } : {}) };
  const photo = await Photo.open(bytes, { budget, background: options.background, previewSide: Infinity });
  return { ...photo.preview.image, type: photo.type, orientation: photo.orientation };
}
