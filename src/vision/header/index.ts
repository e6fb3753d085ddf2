/**
 * The container walk that runs before any decoder: every structure a decoder would act on is
 * checked here first (one frame or IHDR, component counts, sampling, chunk and segment lengths,
 * dimensions, scan counts) and the decode's cost is computed from it. What a decoder would choke
 * on is refused as `undecodable`; what is well formed but over the budget as `too_large`.
 */
import type { DecodeBudget } from "../budget";
import type { ImageType } from "../sniff";
import { jpegHeader, type JpegHeader } from "./jpeg";
import { pngHeader, type PngHeader } from "./png";
import { webpHeader, type WebpHeader } from "./webp";

export type { JpegHeader, PngHeader, WebpHeader };
export type ImageHeader = JpegHeader | PngHeader | WebpHeader;

export function readHeader(bytes: Uint8Array, type: ImageType, budget: DecodeBudget): ImageHeader {
  const header = type === "jpeg" ? jpegHeader(bytes, budget) : type === "png" ? pngHeader(bytes, budget) : webpHeader(bytes, budget);
  return header;
}
