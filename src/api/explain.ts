/**
 * `explain=true`: a model's score map (a coarse grid of how much each region of the aligned face
 * pushed the estimate) rendered as a small heatmap PNG, returned as a data URL so a client can
 * overlay it on the face without another request.
 */
import { encode } from "fast-png";

/**
 * Output side in pixels, whatever the model's input size (its card's): the map is a coarse grid, so more
 * pixels would add bytes, not detail; a client scales the heatmap over the aligned face.
 */
const SIZE = 64;

// A perceptually ordered ramp (dark blue -> teal -> yellow), as control points on [0, 1].
const RAMP: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

function colour(t: number, out: Uint8Array, offset: number): void {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  for (let c = 0; c < 3; c++) out[offset + c] = Math.round(RAMP[i][c] * (1 - f) + RAMP[i + 1][c] * f);
}

/** Min-max normalised, bilinearly upsampled to SIZE x SIZE, coloured; an all-equal map is flat. */
export function scoremapPng(map: readonly (readonly number[])[], size = SIZE): Uint8Array {
  const h = map.length;
  const w = h ? map[0].length : 0;
  if (!h || !w) throw new Error("empty score map");
  let lo = Infinity,
    hi = -Infinity;
  for (const row of map)
    for (const v of row) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  const span = hi - lo || 1;
  const rgb = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(h - 1, Math.max(0, ((y + 0.5) * h) / size - 0.5));
    const y0 = Math.floor(sy),
      y1 = Math.min(h - 1, y0 + 1),
      fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = Math.min(w - 1, Math.max(0, ((x + 0.5) * w) / size - 0.5));
      const x0 = Math.floor(sx),
        x1 = Math.min(w - 1, x0 + 1),
        fx = sx - x0;
      const v = (map[y0][x0] * (1 - fx) + map[y0][x1] * fx) * (1 - fy) + (map[y1][x0] * (1 - fx) + map[y1][x1] * fx) * fy;
      colour((v - lo) / span, rgb, (y * size + x) * 3);
    }
  }
  return encode({ width: size, height: size, data: rgb, channels: 3, depth: 8 });
}

export function pngDataUrl(png: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < png.length; i += 0x8000) binary += String.fromCharCode(...png.subarray(i, i + 0x8000));
  return `data:image/png;base64,${btoa(binary)}`;
}
