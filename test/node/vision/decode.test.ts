import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { initDecodersForNode } from "../../../src/cli/node-decoders";
import { decodeImage, ImageError, sniffImageType } from "../../../src/vision";
import { describeWith } from "../../support/require-data";
import { FACE_PHOTOS, facePhoto, meanAbsDiff } from "./fixtures";

/** Upright RGB pixels of an encoded image as libvips (sharp) sees them: the reference decoder. */
async function reference(bytes: Uint8Array, background = "#ffffff") {
  const { data, info } = await sharp(bytes)
    .rotate()
    .flatten({ background })
    .removeAlpha()
    .toColourspace("srgb")
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

beforeAll(initDecodersForNode);

async function expectImageError(bytes: Uint8Array, kind: string, options = {}) {
  const error = await decodeImage(bytes, options).then(
    () => null,
    (e) => e,
  );
  expect(error).toBeInstanceOf(ImageError);
  expect((error as ImageError).kind).toBe(kind);
}

describeWith("decodeImage on real photos", { data: [FACE_PHOTOS] }, () => {
  const photo = facePhoto(3);

  it("decodes a baseline JPEG like libjpeg does", async () => {
    const image = await decodeImage(photo);
    const ref = await reference(photo);
    expect([image.type, image.width, image.height]).toEqual(["jpeg", ref.width, ref.height]);
    expect(meanAbsDiff(image.data, ref.data)).toBeLessThan(1.5);
  });

  it("honours every EXIF orientation (1..8)", async () => {
    const upright = await reference(photo);
    for (let orientation = 1; orientation <= 8; orientation++) {
      const bytes = await sharp(photo).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();
      const image = await decodeImage(bytes);
      expect(image.orientation).toBe(orientation);
      const ref = await reference(bytes);
      expect([image.width, image.height], `orientation ${orientation}`).toEqual([ref.width, ref.height]);
      if (orientation >= 5) expect([image.width, image.height]).toEqual([upright.height, upright.width]);
      expect(meanAbsDiff(image.data, ref.data), `orientation ${orientation}`).toBeLessThan(2);
    }
  });

  it("decodes a progressive JPEG to the same pixels as its baseline twin", async () => {
    const progressive = await sharp(photo).jpeg({ quality: 90, progressive: true }).toBuffer();
    const ref = await reference(progressive);
    const image = await decodeImage(progressive);
    expect(meanAbsDiff(image.data, ref.data)).toBeLessThan(1.5);
  });

  it("decodes grey JPEG and grey PNG to R=G=B", async () => {
    for (const bytes of [await sharp(photo).greyscale().jpeg().toBuffer(), await sharp(photo).greyscale().png().toBuffer()]) {
      const image = await decodeImage(bytes);
      const ref = await reference(bytes);
      let coloured = 0;
      for (let i = 0; i < image.data.length; i += 3) {
        if (image.data[i] !== image.data[i + 1] || image.data[i] !== image.data[i + 2]) coloured++;
      }
      expect(coloured).toBe(0);
      expect(meanAbsDiff(image.data, ref.data)).toBeLessThan(1.5);
    }
  });

  it("decodes a CMYK JPEG to plausible RGB", async () => {
    const cmyk = await sharp(photo).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe("cmyk");
    const image = await decodeImage(cmyk);
    const rgb = await reference(photo);
    // Naive CMYK->RGB (no ICC profile) shifts colours a little, never wholesale.
    expect(meanAbsDiff(image.data, rgb.data)).toBeLessThan(20);
  });

  it("composites a PNG's alpha onto the background", async () => {
    const { data: rgb, info } = await sharp(photo).raw().toBuffer({ resolveWithObject: true });
    const width: number | undefined = info.width;
    const height: number | undefined = info.height;
    // Left half opaque, right half fully transparent.
    const rgba = Buffer.alloc(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      rgba.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
      rgba[i * 4 + 3] = i % width < Math.floor(width / 2) ? 255 : 0;
    }
    const png = await sharp(rgba, { raw: { width, height, channels: 4 } })
      .png()
      .toBuffer();
    expect((await sharp(png).metadata()).channels).toBe(4);
    const image = await decodeImage(png);
    const opaque = await reference(await sharp(photo).png().toBuffer());
    const row = Math.floor(height! / 2) * width! * 3;
    expect(Array.from(image.data.subarray(row + (width! - 1) * 3, row + width! * 3))).toEqual([255, 255, 255]);
    expect(Array.from(image.data.subarray(row, row + 3))).toEqual(Array.from(opaque.data.subarray(row, row + 3)));
    const black = await decodeImage(png, { background: [0, 0, 0] });
    expect(Array.from(black.data.subarray(row + (width! - 1) * 3, row + width! * 3))).toEqual([0, 0, 0]);
  });

  it("decodes lossless WebP exactly and lossy WebP closely, with its EXIF orientation", async () => {
    const rgb = await reference(photo);
    const lossless = await sharp(photo).webp({ lossless: true }).toBuffer();
    const image = await decodeImage(lossless);
    expect(image.type).toBe("webp");
    expect(meanAbsDiff(image.data, rgb.data)).toBe(0);
    const lossy = await sharp(photo).webp({ quality: 90 }).toBuffer();
    expect(meanAbsDiff((await decodeImage(lossy)).data, rgb.data)).toBeLessThan(4);
    const rotated = await sharp(photo).webp({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer();
    const upright = await decodeImage(rotated);
    expect([upright.orientation, upright.width, upright.height]).toEqual([6, rgb.height, rgb.width]);
  });

  it("refuses truncated JPEG, PNG and WebP files as undecodable", async () => {
    const png = await sharp(photo).png().toBuffer();
    const webp = await sharp(photo).webp().toBuffer();
    for (const bytes of [photo, png, webp]) {
      await expectImageError(bytes.subarray(0, Math.floor(bytes.length / 2)), "undecodable");
      await expectImageError(bytes.subarray(0, 40), "undecodable");
    }
  });
});

describe("decodeImage refusals", () => {
  it("refuses non-images and other formats as unsupported", async () => {
    await expectImageError(new TextEncoder().encode("<html>not an image</html>"), "unsupported");
    await expectImageError(new Uint8Array(0), "unsupported");
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#f00" } })
      .gif()
      .toBuffer();
    await expectImageError(gif, "unsupported");
    expect(sniffImageType(gif)).toBeNull();
  });

  it("refuses a 30000x30000 header before allocating any pixels", async () => {
    // A real 16x16 JPEG whose frame header claims 30000x30000 (a decompression bomb's shape).
    const small = new Uint8Array(
      await sharp({ create: { width: 16, height: 16, channels: 3, background: "#888" } })
        .jpeg()
        .toBuffer(),
    );
    const bomb = small.slice();
    let sof = 2;
    while (!(bomb[sof] === 0xff && bomb[sof + 1] >= 0xc0 && bomb[sof + 1] <= 0xc2)) sof += 2 + ((bomb[sof + 2] << 8) | bomb[sof + 3]);
    bomb.set([30000 >> 8, 30000 & 255, 30000 >> 8, 30000 & 255], sof + 5);
    // A PNG signature + IHDR claiming the same.
    const png = new Uint8Array(33);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    new DataView(png.buffer).setUint32(16, 30000);
    new DataView(png.buffer).setUint32(20, 30000);
    png.set([8, 2, 0, 0, 0], 24);
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    for (const bytes of [bomb, png]) await expectImageError(bytes, "too_large", { maxPixels: 50_000_000 });
    expect(performance.now() - started).toBeLessThan(200);
    // 900 MP of RGB would be 2.7 GB; nothing near that was allocated.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20 * 2 ** 20);
    // The same header under a budget that fits is not refused as too large.
    expect((await decodeImage(small, { maxPixels: 256 })).width).toBe(16);
    await expectImageError(small, "too_large", { maxPixels: 255 });
  });
});
