/**
 * BlazeFace SSD anchors (MediaPipe's front/back face-detection configuration): a 16x16 grid with
 * 2 anchors per cell, then an 8x8 grid with 6, i.e. 512 + 384 = 896 centres in [0,1] image units,
 * in the order of the model's two output heads. Both the 128 front and the 256 back model use it.
 */
export const ANCHOR_GRIDS = [
  { cells: 16, perCell: 2 },
  { cells: 8, perCell: 6 },
] as const;

export function blazeFaceAnchors(): Float32Array {
  const out: number[] = [];
  for (const { cells, perCell } of ANCHOR_GRIDS) {
    for (let y = 0; y < cells; y++)
      for (let x = 0; x < cells; x++) for (let a = 0; a < perCell; a++) out.push((x + 0.5) / cells, (y + 0.5) / cells);
  }
  return Float32Array.from(out);
}
