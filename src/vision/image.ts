/** An 8-bit RGB image, row-major, channels interleaved (HWC): what every vision step passes on. */
export interface RgbImage {
  width: number;
  height: number;
  /** width * height * 3 bytes. */
  data: Uint8Array;
}

export function createImage(width: number, height: number): RgbImage {
  return { width, height, data: new Uint8Array(width * height * 3) };
}

/** Mirror left-right (used for flip-averaged inference). */
export function flipHorizontal(image: RgbImage): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const s = row + x * 3;
      const d = row + (width - 1 - x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width, height, data: out };
}

/**
 * Scales the image about its centre by `scale` (> 1 zooms in, as a tighter face box would), same
 * size out, bilinear, edges repeated. Sample positions follow PyTorch's grid_sample with
 * align_corners=False, so that training/dldl (corruptions.zoom) measures exactly these views.
 */
export function zoomAboutCentre(image: RgbImage, scale: number): RgbImage {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  const source = (i: number, n: number) => Math.min(Math.max(((2 * i + 1 - n) / scale + n - 1) / 2, 0), n - 1);
  for (let y = 0; y < height; y++) {
    const sy = source(y, height);
    const y0 = Math.floor(sy),
      y1 = Math.min(y0 + 1, height - 1),
      ty = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = source(x, width);
      const x0 = Math.floor(sx),
        x1 = Math.min(x0 + 1, width - 1),
        tx = sx - x0;
      const d = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = data[(y0 * width + x0) * 3 + c] * (1 - tx) + data[(y0 * width + x1) * 3 + c] * tx;
        const bottom = data[(y1 * width + x0) * 3 + c] * (1 - tx) + data[(y1 * width + x1) * 3 + c] * tx;
        out[d + c] = Math.round(top * (1 - ty) + bottom * ty);
      }
    }
  }
  return { width, height, data: out };
}
