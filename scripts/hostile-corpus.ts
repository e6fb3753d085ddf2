/**
 * Writes the hostile-image corpus to test/fixtures/hostile/ (deterministic; rerun to regenerate):
 * files an attacker would send to make a decoder allocate, loop or spin, each built here from
 * scratch or from a tiny synthetic image (no dataset photo), plus manifest.json saying what each
 * one is and what the API must answer.
 *
 *   npx tsx scripts/hostile-corpus.ts
 *
 * Read by test/worker/hostile.test.ts (every file, single and batch, in workerd) and
 * test/node/vision/hostile.test.ts (peak memory and CPU per file in Node).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { REPO_ROOT } from "./lib/repo";

export const HOSTILE_DIR = join(REPO_ROOT, "test/fixtures/hostile");

export interface HostileEntry {
  file: string;
  /** What the API must answer: a 4xx problem, or 200 (harmless content it ignores, e.g. a broken EXIF block). */
  expect: "4xx" | "200";
  what: string;
}

// ---- PNG ----------------------------------------------------------------------------------

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array, length = data.length): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(length >>> 0, 0);
  head.write(type, 4, "ascii");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function ihdr(width: number, height: number, colorType = 2): Buffer {
  const d = Buffer.alloc(13);
  d.writeUInt32BE(width, 0);
  d.writeUInt32BE(height, 4);
  d[8] = 8;
  d[9] = colorType;
  return chunk("IHDR", d);
}

/** zlib stream of `megabytes` of zeros (deflate reaches ~1030:1 on them). */
function zeros(megabytes: number): Buffer {
  return deflateSync(Buffer.alloc(megabytes * 2 ** 20), { level: 9 });
}

/** A real 8x8 RGB image's IDAT. */
function smallIdat(): Buffer {
  const raw = Buffer.alloc(8 * (1 + 8 * 3), 0x80);
  for (let y = 0; y < 8; y++) raw[y * 25] = 0;
  return chunk("IDAT", deflateSync(raw));
}

const IEND = chunk("IEND", new Uint8Array(0));

// ---- JPEG ---------------------------------------------------------------------------------

/** Marker segments of a JPEG, in order: [marker, body] (SOS body includes its entropy-coded data). */
function segments(jpeg: Buffer): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  let o = 2;
  while (o < jpeg.length) {
    const marker = jpeg[o + 1];
    if (marker === 0xd9) break;
    const length = jpeg.readUInt16BE(o + 2);
    let end = o + 2 + length;
    if (marker === 0xda) {
      while (!(jpeg[end] === 0xff && jpeg[end + 1] !== 0 && !(jpeg[end + 1] >= 0xd0 && jpeg[end + 1] <= 0xd7))) end++;
    }
    out.push([marker, jpeg.subarray(o + 2, end)]);
    o = end;
  }
  return out;
}

function assemble(parts: [number, Buffer][]): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    ...parts.map(([m, body]) => Buffer.concat([Buffer.from([0xff, m]), body])),
    Buffer.from([0xff, 0xd9]),
  ]);
}

/** A frame header body: 8-bit, width x height, components [id, hv, table]. */
function sof(width: number, height: number, components: [number, number, number][]): Buffer {
  const b = Buffer.alloc(8 + 3 * components.length);
  b.writeUInt16BE(b.length, 0);
  b[2] = 8;
  b.writeUInt16BE(height, 3);
  b.writeUInt16BE(width, 5);
  b[7] = components.length;
  for (const [i, [id, hv, t]] of components.entries()) b.set([id, hv, t], 8 + 3 * i);
  return b;
}

/** An EXIF APP1 body around a TIFF block. */
function app1(tiff: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from("Exif\0\0", "binary"), tiff]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length + 2);
  return Buffer.concat([len, body]);
}

async function buildCorpus(): Promise<{ entries: HostileEntry[]; files: Record<string, Buffer> }> {
  const files: Record<string, Buffer> = {};
  const entries: HostileEntry[] = [];
  const add = (file: string, expect: HostileEntry["expect"], what: string, bytes: Buffer) => {
    files[file] = bytes;
    entries.push({ file, expect, what });
  };

  // PNG
  add(
    "png-idat-bomb.png",
    "4xx",
    "1x1 IHDR, one IDAT that inflates to 256 MB of zeros",
    Buffer.concat([PNG_SIGNATURE, ihdr(1, 1), chunk("IDAT", zeros(256)), IEND]),
  );
  add(
    "png-iccp-bomb.png",
    "4xx",
    "an 8x8 image whose iCCP profile inflates to 256 MB (declares 560 bytes)",
    Buffer.concat([
      PNG_SIGNATURE,
      ihdr(8, 8),
      chunk(
        "iCCP",
        Buffer.concat([
          Buffer.from("icc\0\0", "binary"),
          deflateSync(Buffer.concat([Buffer.from([0, 0, 2, 0x30]), Buffer.alloc(256 * 2 ** 20)]), { level: 9 }),
        ]),
      ),
      smallIdat(),
      IEND,
    ]),
  );
  add(
    "png-ztxt-bomb.png",
    "4xx",
    "an 8x8 image with a zTXt comment that inflates to 256 MB",
    Buffer.concat([
      PNG_SIGNATURE,
      ihdr(8, 8),
      chunk("zTXt", Buffer.concat([Buffer.from("Comment\0\0", "binary"), zeros(256)])),
      smallIdat(),
      IEND,
    ]),
  );
  add(
    "png-duplicate-ihdr.png",
    "4xx",
    "IHDR 1x1, then a second IHDR of 10000x10000",
    Buffer.concat([PNG_SIGNATURE, ihdr(1, 1), ihdr(10000, 10000), smallIdat(), IEND]),
  );
  add(
    "png-huge-dimensions.png",
    "4xx",
    "IHDR of 1000000x1000000 over a tiny IDAT",
    Buffer.concat([PNG_SIGNATURE, ihdr(1_000_000, 1_000_000), smallIdat(), IEND]),
  );
  add(
    "png-chunk-past-end.png",
    "4xx",
    "a tEXt chunk whose length says 2 GB",
    Buffer.concat([PNG_SIGNATURE, ihdr(8, 8), chunk("tEXt", Buffer.from("a\0b"), 0x7ffffff0), smallIdat(), IEND]),
  );

  // JPEG, from small synthetic images (a gradient, so there is real scan data)
  const gradient = (w: number, h: number) => {
    const d = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d.set([(x * 255) / w, (y * 255) / h, 128], (y * w + x) * 3);
    return sharp(d, { raw: { width: w, height: h, channels: 3 } });
  };
  const base = segments(await gradient(64, 64).jpeg({ quality: 90 }).toBuffer());
  const frameAt = base.findIndex(([m]) => m === 0xc0);
  const [, frame] = base[frameAt];
  const withFrame = (...frames: Buffer[]) =>
    assemble([...base.slice(0, frameAt), ...frames.map((f) => [0xc0, f] as [number, Buffer]), ...base.slice(frameAt + 1)]);
  const twenty = Array.from({ length: 20 }, (_, i) => [i + 1, 0x11, 0] as [number, number, number]);
  add(
    "jpeg-20-components.jpg",
    "4xx",
    "frame header of 3535x3535 with 20 components, an honest photo's scans after it",
    withFrame(sof(3535, 3535, twenty)),
  );
  add(
    "jpeg-several-frames.jpg",
    "4xx",
    "three frame headers (64x64, 8000x8000, 64x64)",
    withFrame(
      frame,
      sof(8000, 8000, [
        [1, 0x22, 0],
        [2, 0x11, 1],
        [3, 0x11, 1],
      ]),
      frame,
    ),
  );
  add(
    "jpeg-huge-then-small-frame.jpg",
    "4xx",
    "a 12000x12000 frame header, then the real 64x64 one",
    withFrame(
      sof(12000, 12000, [
        [1, 0x11, 0],
        [2, 0x11, 1],
        [3, 0x11, 1],
      ]),
      frame,
    ),
  );
  add(
    "jpeg-fractional-sampling.jpg",
    "4xx",
    "sampling factors 3x3 luma with 2x2 chroma (not integral ratios)",
    withFrame(
      sof(64, 64, [
        [1, 0x33, 0],
        [2, 0x22, 1],
        [3, 0x22, 1],
      ]),
    ),
  );
  const sos = base.findIndex(([m]) => m === 0xda);
  const frameAfterScan = assemble([
    ...base.slice(0, sos + 1),
    [
      0xc0,
      sof(9000, 9000, [
        [1, 0x11, 0],
        [2, 0x11, 1],
        [3, 0x11, 1],
      ]),
    ],
    ...base.slice(sos + 1),
  ]);
  add("jpeg-frame-after-scan.jpg", "4xx", "a second, 9000x9000 frame header after the first scan", frameAfterScan);

  // Progressive: a flat 2400x2400 image (tiny scans) with its last scan repeated 4000 times.
  const prog = segments(
    await sharp({ create: { width: 2400, height: 2400, channels: 3, background: "#808080" } })
      .jpeg({ progressive: true, quality: 80 })
      .toBuffer(),
  );
  const lastScan = prog.map(([m]) => m).lastIndexOf(0xda);
  const manyScans = assemble([
    ...prog.slice(0, lastScan + 1),
    ...Array.from({ length: 4000 }, () => prog[lastScan]),
    ...prog.slice(lastScan + 1),
  ]);
  add("jpeg-4000-scans.jpg", "4xx", "progressive 2400x2400 with 4000 scans (each a pass over 90,000 blocks)", manyScans);
  // Under the scan count cap, but each extra scan a full pass: refused by the scan-work cap.
  const heavyScans = assemble([
    ...prog.slice(0, lastScan + 1),
    ...Array.from({ length: 50 }, () => prog[lastScan]),
    ...prog.slice(lastScan + 1),
  ]);
  add(
    "jpeg-60-heavy-scans.jpg",
    "4xx",
    "progressive 2400x2400 with its last scan repeated to ~60 scans: under the scan cap, over the scan-work cap",
    heavyScans,
  );

  // A 4:4:4 progressive file near the pixel limit: its coefficient arrays alone would be ~69 MB.
  const big444 = await sharp({ create: { width: 3400, height: 3400, channels: 3, background: "#406080" } })
    .jpeg({ progressive: true, chromaSubsampling: "4:4:4", quality: 50 })
    .toBuffer();
  add(
    "jpeg-progressive-444-11mp.jpg",
    "4xx",
    "progressive 3400x3400 4:4:4: 11.6 MP, within the pixel budget, but ~69 MB of coefficients",
    big444,
  );

  // EXIF: IFD0 whose next-IFD pointer loops to itself, and one whose offsets point far outside.
  const tiffLoop = Buffer.alloc(8 + 2 + 12 + 4);
  tiffLoop.write("MM", 0, "ascii");
  tiffLoop.writeUInt16BE(42, 2);
  tiffLoop.writeUInt32BE(8, 4);
  tiffLoop.writeUInt16BE(1, 8);
  tiffLoop.writeUInt16BE(0x8769, 10); // ExifIFD pointer ...
  tiffLoop.writeUInt16BE(4, 12);
  tiffLoop.writeUInt32BE(1, 14);
  tiffLoop.writeUInt32BE(8, 18); // ... back to IFD0
  tiffLoop.writeUInt32BE(8, 22); // next IFD: IFD0 again
  const tiffFar = Buffer.alloc(8 + 2);
  tiffFar.write("II", 0, "ascii");
  tiffFar.writeUInt16LE(42, 2);
  tiffFar.writeUInt32LE(0xfffffff0, 4); // IFD0 4 GB away
  const withApp1 = (tiff: Buffer) => assemble([[0xe1, app1(tiff)], ...base]);
  add("exif-ifd-loop.jpg", "200", "a 64x64 JPEG whose EXIF IFDs point back at themselves (ignored: orientation 1)", withApp1(tiffLoop));
  add("exif-huge-offsets.jpg", "200", "a 64x64 JPEG whose EXIF IFD0 offset is 4 GB (ignored: orientation 1)", withApp1(tiffFar));
  const entries65535 = Buffer.alloc(8 + 2);
  entries65535.write("MM", 0, "ascii");
  entries65535.writeUInt16BE(42, 2);
  entries65535.writeUInt32BE(8, 4);
  entries65535.writeUInt16BE(0xffff, 8); // 65535 entries, none present
  add("exif-65535-entries.jpg", "200", "a 64x64 JPEG whose EXIF IFD0 claims 65535 entries in 10 bytes (ignored)", withApp1(entries65535));
  const app1PastEnd = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xf0]), Buffer.from("Exif\0\0", "binary"), tiffFar]);
  add("exif-segment-past-end.jpg", "4xx", "an APP1 EXIF segment whose length runs 65 KB past the end of the file", app1PastEnd);

  // WebP: a real 16x16 lossy frame inside a VP8X whose canvas claims 16777216 x 16777216.
  const webp = await gradient(16, 16).webp({ quality: 80 }).toBuffer();
  const vp8 = webp.subarray(12);
  const vp8x = Buffer.alloc(18);
  vp8x.write("VP8X", 0, "ascii");
  vp8x.writeUInt32LE(10, 4);
  vp8x.writeUIntLE(0xffffff, 12, 3);
  vp8x.writeUIntLE(0xffffff, 15, 3);
  const riff = (body: Buffer) => {
    const head = Buffer.alloc(12);
    head.write("RIFF", 0, "ascii");
    head.writeUInt32LE(body.length + 4, 4);
    head.write("WEBP", 8, "ascii");
    return Buffer.concat([head, body]);
  };
  add("webp-huge-canvas.webp", "4xx", "VP8X canvas of 16777216x16777216 around a 16x16 frame", riff(Buffer.concat([vp8x, vp8])));
  const vp8xSmall = Buffer.from(vp8x);
  vp8xSmall.writeUIntLE(3999, 12, 3);
  vp8xSmall.writeUIntLE(2999, 15, 3);
  add("webp-canvas-mismatch.webp", "4xx", "VP8X canvas of 4000x3000 around a 16x16 frame", riff(Buffer.concat([vp8xSmall, vp8])));
  return { entries, files };
}

export async function writeCorpus(dir = HOSTILE_DIR): Promise<HostileEntry[]> {
  const { entries, files } = await buildCorpus();
  mkdirSync(dir, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dir, file), bytes);
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(entries, null, 1) + "\n");
  return entries;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const entries = await writeCorpus();
  console.log(`${entries.length} files in ${HOSTILE_DIR}`);
}
