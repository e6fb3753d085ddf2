import type { RgbImage } from "./image";

/**
 * EXIF orientation (tag 0x0112) from a TIFF block (the payload after "Exif\0\0"). 1 when absent
 * or malformed: a broken EXIF block must not make a decodable photo fail.
 *
 * Parsed by hand rather than with an EXIF library because orientation is the only tag the
 * pipeline needs, and this reader is bounded against hostile input by construction: IFD0 only (no
 * offsets followed, so no loops), at most its 65,535 entries, every read bounds-checked. The
 * hostile corpus (test/fixtures/hostile: exif-ifd-loop, exif-huge-offsets, exif-65535-entries,
 * exif-segment-past-end; test/node/vision/hostile.test.ts) and the orientation tests
 * (test/node/vision/decode.test.ts) cover it.
 */
export function exifOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return 1;
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const u16 = (o: number) => view.getUint16(o, little);
  if (u16(2) !== 42) return 1;
  const ifd = view.getUint32(4, little);
  if (ifd + 2 > tiff.length) return 1;
  const count = u16(ifd);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) === 0x0112) {
      const value = u16(entry + 8);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

/** Turns stored pixels into display pixels for EXIF orientation 1..8 (5..8 swap width and height). */
export function applyOrientation(image: RgbImage, orientation: number): RgbImage {
  if (orientation <= 1 || orientation > 8) return image;
  const { width: w, height: h, data } = image;
  const swap = orientation >= 5;
  const ow = swap ? h : w;
  const oh = swap ? w : h;
  const out = new Uint8Array(data.length);
  for (let dy = 0; dy < oh; dy++) {
    for (let dx = 0; dx < ow; dx++) {
      let sx: number, sy: number;
      switch (orientation) {
        case 2:
          sx = w - 1 - dx;
          sy = dy;
          break;
        case 3:
          sx = w - 1 - dx;
          sy = h - 1 - dy;
          break;
        case 4:
          sx = dx;
          sy = h - 1 - dy;
          break;
        case 5:
          sx = dy;
          sy = dx;
          break;
        case 6:
          sx = dy;
          sy = h - 1 - dx;
          break;
        case 7:
          sx = w - 1 - dy;
          sy = h - 1 - dx;
          break;
        default:
          sx = w - 1 - dy;
          sy = dx;
          break; // 8
      }
      const s = (sy * w + sx) * 3;
      const d = (dy * ow + dx) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width: ow, height: oh, data: out };
}

/** An axis-aligned rectangle in continuous pixel coordinates: [x0, x1) x [y0, y1). */
export interface Rect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Where a rectangle of the stored image (width x height as stored) lies in the image displayed for
 * EXIF `orientation`: the continuous form of applyOrientation's pixel mapping.
 */
export function orientRect(r: Rect, orientation: number, width: number, height: number): Rect {
  const corner = (x: number, y: number): [number, number] => {
    switch (orientation) {
      case 2:
        return [width - x, y];
      case 3:
        return [width - x, height - y];
      case 4:
        return [x, height - y];
      case 5:
        return [y, x];
      case 6:
        return [height - y, x];
      case 7:
        return [height - y, width - x];
      case 8:
        return [y, width - x];
      default:
        return [x, y];
    }
  };
  const [ax, ay] = corner(r.x0, r.y0);
  const [bx, by] = corner(r.x1, r.y1);
  return { x0: Math.min(ax, bx), y0: Math.min(ay, by), x1: Math.max(ax, bx), y1: Math.max(ay, by) };
}

/** The orientation that undoes `orientation` (6 and 8 are each other's inverse; the rest their own). */
export function inverseOrientation(orientation: number): number {
  return orientation === 6 ? 8 : orientation === 8 ? 6 : orientation;
}
