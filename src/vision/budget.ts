/**
 * What one image may cost to decode, and what a given header would cost: checked before any pixel
 * buffer exists, so a file that would need more is refused for the price of reading its header.
 *
 * Bytes, not only pixels: a 1-megapixel progressive JPEG with four full-resolution components costs
 * more than a 12-megapixel baseline one decoded at 1/8 scale. The figures are upper bounds of the
 * decoders' own allocations (src/vision/jpeg, png.ts, webp.ts), measured by
 * test/node/vision/hostile.test.ts.
 */
export interface DecodeBudget {
  /** Largest width * height a header may declare. */
  maxPixels: number;
  /** Longest side a header may declare (a 40000 x 300 strip is no photo). */
  maxSide: number;
  /** Bytes the decoder may allocate for one image (working memory plus its output). */
  maxBytes: number;
  /** Most scans of a progressive JPEG (encoders write about 10; each scan is a pass over the image). */
  maxScans: number;
  /**
   * Most entropy-decoding work of a JPEG's scans, in passes over all its blocks (each scan counts
   * the blocks of the components it codes). libjpeg's standard progression is about 6; 64 full
   * scans of a 6 MP image cost a second of CPU.
   */
  maxScanPasses: number;
}

export const DEFAULT_BUDGET: DecodeBudget = {
  maxPixels: 25_000_000,
  maxSide: 16_384,
  maxBytes: 48 * 2 ** 20,
  maxScans: 64,
  maxScanPasses: 12,
};

/** 8x8 blocks of each JPEG component, as libjpeg allocates them (padded to whole multiples of its sampling factors). */
export function jpegComponentBlocks(width: number, height: number, sampling: readonly { h: number; v: number }[]): number[] {
  const hmax = Math.max(...sampling.map((c) => c.h));
  const vmax = Math.max(...sampling.map((c) => c.v));
  return sampling.map(({ h, v }) => {
    const bw = Math.ceil(Math.ceil((width * h) / hmax) / 8);
    const bh = Math.ceil(Math.ceil((height * v) / vmax) / 8);
    return Math.ceil(bw / h) * h * Math.ceil(bh / v) * v;
  });
}

/** Bytes of a JPEG's whole-image coefficient arrays (progressive files only): 64 int16 per block. */
export function jpegCoefficientBytes(width: number, height: number, sampling: readonly { h: number; v: number }[]): number {
  return jpegComponentBlocks(width, height, sampling).reduce((a, b) => a + b, 0) * 128;
}

/** Bytes of 8-bit RGB at width x height. */
export const rgbBytes = (width: number, height: number) => width * height * 3;
