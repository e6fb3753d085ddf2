import type { RgbImage } from "./image";

/** Per output coordinate: which source samples contribute and how much (weights sum to 1). */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array[];
}

/**
 * Area averaging when shrinking (each output pixel is the mean of the source area it covers, so
 * no aliasing), bilinear when enlarging. Coordinates are pixel-area based: pixel i spans [i, i+1).
 */
function taps(src: number, dst: number): Taps {
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights: Float32Array[] = [];
  const f = src / dst;
  for (let i = 0; i < dst; i++) {
    if (f > 1) {
      const a = i * f;
      const b = Math.min(src, (i + 1) * f);
      const s = Math.floor(a);
      const e = Math.min(src - 1, Math.ceil(b) - 1);
      const w = new Float32Array(e - s + 1);
      for (let k = s; k <= e; k++) w[k - s] = (Math.min(b, k + 1) - Math.max(a, k)) / (b - a);
      start[i] = s;
      count[i] = w.length;
      weights.push(w);
    } else {
      const x = Math.min(Math.max((i + 0.5) * f - 0.5, 0), src - 1);
      const s = Math.min(Math.floor(x), Math.max(src - 2, 0));
      const t = x - s;
      start[i] = s;
      count[i] = src > 1 ? 2 : 1;
      weights.push(src > 1 ? Float32Array.of(1 - t, t) : Float32Array.of(1));
    }
  }
  return { start, count, weights };
}

/** Resamples to width x height as float RGB (HWC), values 0..255. */
export function resizeToFloat(image: RgbImage, width: number, height: number): Float32Array {
  const { width: sw, height: sh, data } = image;
  const tx = taps(sw, width);
  const ty = taps(sh, height);
  // Horizontal pass: sh rows x width columns.
  const mid = new Float32Array(sh * width * 3);
  for (let y = 0; y < sh; y++) {
    const row = y * sw * 3;
    for (let x = 0; x < width; x++) {
      const w = tx.weights[x];
      let r = 0,
        g = 0,
        b = 0;
      for (let k = 0, s = row + tx.start[x] * 3; k < tx.count[x]; k++, s += 3) {
        r += data[s] * w[k];
        g += data[s + 1] * w[k];
        b += data[s + 2] * w[k];
      }
      const d = (y * width + x) * 3;
      mid[d] = r;
      mid[d + 1] = g;
      mid[d + 2] = b;
    }
  }
  const out = new Float32Array(height * width * 3);
  const stride = width * 3;
  for (let y = 0; y < height; y++) {
    const w = ty.weights[y];
    const d = y * stride;
    for (let k = 0; k < ty.count[y]; k++) {
      const s = (ty.start[y] + k) * stride;
      const wk = w[k];
      for (let i = 0; i < stride; i++) out[d + i] += mid[s + i] * wk;
    }
  }
  return out;
}

/** Resamples to width x height, rounded to uint8. */
export function resize(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return image;
  const f = resizeToFloat(image, width, height);
  const data = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(f[i])));
  return { width, height, data };
}
