import { ImageError } from "./errors";
import { exifOrientation } from "./exif";
import { ascii, type ImageType } from "./sniff";

/** What the container says before any pixel is decoded: enough to refuse a decompression bomb. */
export interface ImageHeader {
  width: number;
  height: number;
  /** EXIF orientation 1..8 (1 = as stored). */
  orientation: number;
}

export function readHeader(bytes: Uint8Array, type: ImageType): ImageHeader {
  const header = type === "jpeg" ? jpegHeader(bytes) : type === "png" ? pngHeader(bytes) : webpHeader(bytes);
  if (!(header.width > 0 && header.height > 0)) throw new ImageError("undecodable", `${type}: no image dimensions in header`);
  return header;
}

function jpegHeader(b: Uint8Array): ImageHeader {
  let orientation = 1;
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) throw new ImageError("undecodable", "jpeg: corrupt marker segment");
    const marker = b[o + 1];
    if (marker === 0xff) { o++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { o += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) break; // EOI / start of scan before any frame header
    const length = (b[o + 2] << 8) | b[o + 3];
    const body = o + 4;
    if (length < 2 || o + 2 + length > b.length) break;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame && length >= 7) {
      const height = (b[body + 1] << 8) | b[body + 2];
      const width = (b[body + 3] << 8) | b[body + 4];
      return { width, height, orientation };
    }
    if (marker === 0xe1 && ascii(b, body, 6) === "Exif\0\0") {
      orientation = exifOrientation(b.subarray(body + 6, o + 2 + length));
    }
    o += 2 + length;
  }
  throw new ImageError("undecodable", "jpeg: no frame header (truncated or corrupt)");
}

function pngHeader(b: Uint8Array): ImageHeader {
  if (b.length < 24 || ascii(b, 12, 4) !== "IHDR") throw new ImageError("undecodable", "png: missing IHDR");
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  let orientation = 1;
  // eXIf may sit anywhere before IDAT; walking chunk headers costs nothing.
  let o = 8;
  while (o + 8 <= b.length) {
    const length = view.getUint32(o);
    const type = ascii(b, o + 4, 4);
    if (type === "IDAT" || type === "IEND") break;
    if (type === "eXIf" && o + 8 + length <= b.length) orientation = exifOrientation(b.subarray(o + 8, o + 8 + length));
    o += 12 + length;
  }
  return { width, height, orientation };
}

function webpHeader(b: Uint8Array): ImageHeader {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 30) throw new ImageError("undecodable", "webp: truncated header");
  // libwebp renders whatever prefix it gets (grey below), so completeness is checked here.
  if (b.length < view.getUint32(4, true) + 8) throw new ImageError("undecodable", "webp: truncated (shorter than its RIFF size)");
  const chunk = ascii(b, 12, 4);
  const u24 = (o: number) => b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
  if (chunk === "VP8 ") {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw new ImageError("undecodable", "webp: bad VP8 start code");
    return { width: view.getUint16(26, true) & 0x3fff, height: view.getUint16(28, true) & 0x3fff, orientation: 1 };
  }
  if (chunk === "VP8L") {
    if (b[20] !== 0x2f) throw new ImageError("undecodable", "webp: bad VP8L signature");
    const bits = view.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, orientation: 1 };
  }
  if (chunk === "VP8X") {
    const width = u24(24) + 1;
    const height = u24(27) + 1;
    let orientation = 1;
    if (b[20] & 0x08) {
      let o = 12;
      while (o + 8 <= b.length) {
        const length = view.getUint32(o + 4, true);
        if (ascii(b, o, 4) === "EXIF" && o + 8 + length <= b.length) {
          let tiff = b.subarray(o + 8, o + 8 + length);
          if (ascii(tiff, 0, 6) === "Exif\0\0") tiff = tiff.subarray(6);
          orientation = exifOrientation(tiff);
          break;
        }
        o += 8 + length + (length & 1);
      }
    }
    return { width, height, orientation };
  }
  throw new ImageError("undecodable", `webp: unknown chunk ${JSON.stringify(chunk)}`);
}
