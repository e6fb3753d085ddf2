import jpeg from "jpeg-js";
import { convertIndexedToRgb, decode as decodePng, type DecodedPng } from "fast-png";
import { ImageError } from "./errors";
import { applyOrientation } from "./exif";
import { readHeader } from "./header";
import type { RgbImage } from "./image";
import { sniffImageType, type ImageType } from "./sniff";
import { decodeWebP } from "./webp";

export interface DecodeOptions {
  /** Largest width*height accepted, checked from the header before any pixel buffer exists. Default 25 MP. */
  maxPixels?: number;
  /** Colour that transparent pixels are composited onto. Default white (what a viewer shows). */
  background?: [number, number, number];
}

export interface DecodedImage extends RgbImage {
  type: ImageType;
  /** EXIF orientation that was applied (1 = none). */
  orientation: number;
}

export const DEFAULT_MAX_PIXELS = 25_000_000;

/**
 * Bytes -> upright 8-bit RGB. JPEG (baseline, progressive, grey, CMYK), PNG (grey, alpha, palette,
 * 16-bit) and WebP; EXIF orientation applied. Throws `ImageError`: "unsupported" for any other
 * format, "too_large" when the header exceeds `maxPixels`, "undecodable" for corrupt/truncated data.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedImage> {
  const type = sniffImageType(bytes);
  if (!type) throw new ImageError("unsupported", "not a JPEG, PNG or WebP image");
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const header = readHeader(bytes, type);
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new ImageError("too_large", `${header.width}x${header.height} exceeds the ${maxPixels}-pixel budget`);
  }
  const background = options.background ?? [255, 255, 255];
  let image: RgbImage;
  if (type === "jpeg") image = decodeJpeg(bytes, maxPixels);
  else if (type === "png") image = decodePngRgb(bytes, background);
  else {
    const rgba = await decodeWebP(bytes);
    image = { width: rgba.width, height: rgba.height, data: compositeRgba(rgba.data, rgba.width * rgba.height, background) };
  }
  if (image.width !== header.width || image.height !== header.height) {
    throw new ImageError("undecodable", `${type}: decoded size differs from header`);
  }
  return { ...applyOrientation(image, header.orientation), type, orientation: header.orientation };
}

function decodeJpeg(bytes: Uint8Array, maxPixels: number): RgbImage {
  if (!hasJpegEnd(bytes)) throw new ImageError("undecodable", "jpeg: truncated (no end-of-image marker)");
  try {
    const out = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: true,
      maxResolutionInMP: Math.ceil(maxPixels / 1e6) + 1,
      maxMemoryUsageInMB: 1024,
    });
    return { width: out.width, height: out.height, data: out.data as Uint8Array };
  } catch (cause) {
    throw new ImageError("undecodable", `jpeg: ${(cause as Error).message}`, { cause });
  }
}

/** A complete JPEG ends with FFD9, possibly followed by padding or an appended trailer. */
function hasJpegEnd(bytes: Uint8Array): boolean {
  const from = Math.max(2, bytes.length - 65536);
  for (let i = bytes.length - 2; i >= from; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  return false;
}

function decodePngRgb(bytes: Uint8Array, background: [number, number, number]): RgbImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (cause) {
    throw new ImageError("undecodable", `png: ${(cause as Error).message}`, { cause });
  }
  const { width, height } = png;
  const n = width * height;
  if (png.palette) {
    const rgb = convertIndexedToRgb(png);
    return { width, height, data: rgb.length === n * 4 ? compositeRgba(rgb, n, background) : rgb };
  }
  const channels = png.channels;
  const samples = unpackSamples(png);
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    let r: number, g: number, b: number, a = 255;
    if (channels <= 2) {
      r = g = b = samples[s];
      if (channels === 2) a = samples[s + 1];
    } else {
      r = samples[s];
      g = samples[s + 1];
      b = samples[s + 2];
      if (channels === 4) a = samples[s + 3];
    }
    out[i * 3] = blend(r, a, background[0]);
    out[i * 3 + 1] = blend(g, a, background[1]);
    out[i * 3 + 2] = blend(b, a, background[2]);
  }
  return { width, height, data: out };
}

/** PNG samples as 8-bit values: 16-bit keeps the high byte, 1/2/4-bit grey is unpacked and rescaled. */
function unpackSamples(png: DecodedPng): ArrayLike<number> {
  const { depth, data, width, height, channels } = png;
  if (depth === 8) return data;
  if (depth === 16) {
    const out = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i] >> 8;
    return out;
  }
  const out = new Uint8Array(width * height * channels);
  const rowBytes = Math.ceil((width * channels * depth) / 8);
  const max = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * channels; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)];
      const v = (byte >> (8 - depth - (bit & 7))) & max;
      out[y * width * channels + x] = Math.round((v * 255) / max);
    }
  }
  return out;
}

function blend(value: number, alpha: number, background: number): number {
  return alpha === 255 ? value : Math.round((value * alpha + background * (255 - alpha)) / 255);
}

function compositeRgba(rgba: ArrayLike<number>, n: number, background: [number, number, number]): Uint8Array {
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3];
    out[i * 3] = blend(rgba[i * 4], a, background[0]);
    out[i * 3 + 1] = blend(rgba[i * 4 + 1], a, background[1]);
    out[i * 3 + 2] = blend(rgba[i * 4 + 2], a, background[2]);
  }
  return out;
}
