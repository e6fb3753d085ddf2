/**
 * Faces of a Photo at the resolution each step needs: detection runs on the preview, and each face
 * gets a View fine enough to align it onto the model's crop without losing detail (at least
 * MIN_SHRINK view pixels per crop pixel, as the full-size image would give), re-read from the
 * file only when the preview is too coarse for it (a small face in a large JPEG).
 */
import type { AlignmentTemplate } from "@faceage/contracts/card";
import { alignFace, fitSimilarity } from "./align";
import type { Face, FaceDetector, Point } from "./detect";
import type { Rect } from "./exif";
import type { RgbImage } from "./image";
import type { Photo, View } from "./photo";

/** View pixels per crop pixel below which a face is re-read finer (the warp then averages 2x2+ samples). */
export const MIN_SHRINK = 2;

export interface CropSpec {
  template: AlignmentTemplate;
  size: number;
}

/** BlazeFace on the preview, in full-size upright pixels, largest first. */
export async function detectFaces(photo: Photo, detector: FaceDetector): Promise<Face[]> {
  const { scale, x, y } = photo.preview;
  const faces = await detector.detect(photo.preview.image);
  if (scale === 1 && x === 0 && y === 0) return faces;
  const map = ([px, py]: Point): Point => [x + px * scale, y + py * scale];
  return faces.map((f) => ({
    score: f.score,
    box: { x: x + f.box.x * scale, y: y + f.box.y * scale, width: f.box.width * scale, height: f.box.height * scale },
    keypoints: f.keypoints.map(map),
  }));
}

/** For each face, a view from which every spec's crop can be aligned (see alignInView). */
export async function faceViews(photo: Photo, faces: readonly Face[], specs: readonly CropSpec[]): Promise<View[]> {
  const views: View[] = [];
  for (const face of faces) {
    let shrink = Infinity;
    let area: Rect | null = null;
    for (const spec of specs) {
      const t = fitSimilarity(face.keypoints, target(spec), spec.template.weights);
      const det = t.a * t.a + t.b * t.b;
      shrink = Math.min(shrink, 1 / Math.sqrt(det));
      area = union(area, footprint(t, spec.size));
    }
    const enough = shrink / photo.preview.scale >= MIN_SHRINK;
    views.push(enough || !area ? photo.preview : await photo.region(area, Math.max(1, shrink / MIN_SHRINK)));
  }
  return views;
}

/** The face aligned onto `spec` from `view`; keypoints in full-size upright pixels. */
export function alignInView(view: View, keypoints: readonly Point[], spec: CropSpec): RgbImage {
  const inView = keypoints.map(([x, y]) => [(x - view.x) / view.scale, (y - view.y) / view.scale] as Point);
  return alignFace(view.image, inView, spec.template, spec.size);
}

function target(spec: CropSpec): Point[] {
  return spec.template.keypoints.map(([x, y]) => [x * spec.size, y * spec.size] as Point);
}

/** Full-size area the crop samples (its square mapped back through the similarity), with a margin for the filter. */
function footprint(t: { a: number; b: number; tx: number; ty: number }, size: number): Rect {
  const det = t.a * t.a + t.b * t.b;
  const margin = 2;
  const corners = [
    [-margin, -margin],
    [size + margin, -margin],
    [-margin, size + margin],
    [size + margin, size + margin],
  ].map(([u, v]) => {
    const qx = u - t.tx,
      qy = v - t.ty;
    return [(t.a * qx + t.b * qy) / det, (-t.b * qx + t.a * qy) / det];
  });
  const pad = 2 / Math.sqrt(det);
  return {
    x0: Math.min(...corners.map((c) => c[0])) - pad,
    y0: Math.min(...corners.map((c) => c[1])) - pad,
    x1: Math.max(...corners.map((c) => c[0])) + pad,
    y1: Math.max(...corners.map((c) => c[1])) + pad,
  };
}

function union(a: Rect | null, b: Rect): Rect {
  return a ? { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) } : b;
}
