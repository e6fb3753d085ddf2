/** A face candidate in some coordinate frame: centre/size box, 6 keypoints, score. */
export interface Candidate {
  cx: number;
  cy: number;
  w: number;
  h: number;
  keypoints: number[]; // 12 numbers: x0,y0,...,x5,y5
  score: number;
}

export function iou(a: Candidate, b: Candidate): number {
  const ix = Math.max(0, Math.min(a.cx + a.w / 2, b.cx + b.w / 2) - Math.max(a.cx - a.w / 2, b.cx - b.w / 2));
  const iy = Math.max(0, Math.min(a.cy + a.h / 2, b.cy + b.h / 2) - Math.max(a.cy - a.h / 2, b.cy - b.h / 2));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Weighted non-maximum suppression (BlazeFace's "blending"): the best remaining candidate absorbs
 * every candidate overlapping it by more than `iouThreshold`, and the result is their
 * score-weighted mean box and keypoints, which is steadier than keeping the single best anchor.
 */
export function weightedNms(candidates: Candidate[], iouThreshold = 0.3): Candidate[] {
  const rest = [...candidates].sort((a, b) => b.score - a.score);
  const out: Candidate[] = [];
  while (rest.length) {
    const best = rest[0];
    const group: Candidate[] = [];
    for (let i = rest.length - 1; i >= 0; i--) {
      if (iou(best, rest[i]) > iouThreshold || i === 0) group.push(...rest.splice(i, 1));
    }
    let total = 0;
    const acc = { cx: 0, cy: 0, w: 0, h: 0, keypoints: new Array<number>(12).fill(0) };
    for (const c of group) {
      total += c.score;
      acc.cx += c.cx * c.score;
      acc.cy += c.cy * c.score;
      acc.w += c.w * c.score;
      acc.h += c.h * c.score;
      for (let k = 0; k < 12; k++) acc.keypoints[k] += c.keypoints[k] * c.score;
    }
    out.push({
      cx: acc.cx / total,
      cy: acc.cy / total,
      w: acc.w / total,
      h: acc.h / total,
      keypoints: acc.keypoints.map((v) => v / total),
      score: best.score,
    });
  }
  return out;
}
