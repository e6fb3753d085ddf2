/**
 * The JPEG decoder's own limits, behind the header walk (defence in depth: were the walk wrong,
 * libjpeg still stops): the scan cap via its progress monitor, the coefficient budget via
 * max_memory_to_use, and the instance's fixed memory maximum; plus DCT scaling and regions.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { REPO } from "../../../src/cli/paths";
import { ImageError } from "../../../src/vision";
import { decodeJpeg } from "../../../src/vision/jpeg";

const hostile = (file: string) => new Uint8Array(readFileSync(join(REPO, "test/fixtures/hostile", file)));
const kindOf = (f: () => unknown) => {
  try {
    f();
    return "ok";
  } catch (err) {
    expect(err).toBeInstanceOf(ImageError);
    return (err as ImageError).kind;
  }
};

describe("libjpeg (WebAssembly) on its own", () => {
  it("stops a file with 4000 scans at the scan cap, quickly", () => {
    // Each of its scans is a pass over 90,000 blocks; uncapped, that is seconds of CPU.
    const started = performance.now();
    expect(kindOf(() => decodeJpeg(hostile("jpeg-4000-scans.jpg"), { scale: 8, maxScans: 64, maxWorkBytes: 48 << 20 }))).toBe("too_large");
    // 64 passes of a 5.8 MP image before the cap bites: about a second here. The header walk's
    // scan-work cap (src/vision/header/jpeg.ts) refuses such a file before libjpeg sees it.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("decodes an ordinary progressive file (about 10 scans) under the same cap", async () => {
    const progressive = new Uint8Array(
      await sharp({ create: { width: 640, height: 480, channels: 3, background: "#a05030" } })
        .jpeg({ progressive: true })
        .toBuffer(),
    );
    expect(kindOf(() => decodeJpeg(progressive, { scale: 2, maxScans: 64, maxWorkBytes: 48 << 20 }))).toBe("ok");
  });

  it("refuses progressive coefficients over its work budget, and over the instance's memory even with a larger budget", () => {
    const file = hostile("jpeg-progressive-444-11mp.jpg");
    expect(kindOf(() => decodeJpeg(file, { scale: 8, maxScans: 64, maxWorkBytes: 48 << 20 }))).toBe("too_large");
    expect(kindOf(() => decodeJpeg(file, { scale: 8, maxScans: 64, maxWorkBytes: 1 << 30 }))).toBe("too_large");
  });

  it("refuses 20 components and a second frame header", () => {
    expect(kindOf(() => decodeJpeg(hostile("jpeg-20-components.jpg"), { scale: 1, maxScans: 64, maxWorkBytes: 48 << 20 }))).toBe(
      "undecodable",
    );
    expect(kindOf(() => decodeJpeg(hostile("jpeg-several-frames.jpg"), { scale: 1, maxScans: 64, maxWorkBytes: 48 << 20 }))).toBe(
      "undecodable",
    );
  });

  it("decodes at 1/1, 1/2, 1/4, 1/8 and a region, agreeing with libvips", async () => {
    const { data, info } = await sharp({ create: { width: 999, height: 601, channels: 3, background: "#3366cc" } })
      .raw()
      .toBuffer({ resolveWithObject: true });
    for (let i = 0; i < data.length; i++) data[i] = (data[i] + (i % 251)) & 255;
    const jpeg = new Uint8Array(await sharp(data, { raw: info }).jpeg({ quality: 95 }).toBuffer());
    for (const scale of [1, 2, 4, 8] as const) {
      const out = decodeJpeg(jpeg, { scale, maxScans: 64, maxWorkBytes: 48 << 20 });
      expect([out.width, out.height]).toEqual([Math.ceil(999 / scale), Math.ceil(601 / scale)]);
    }
    const full = decodeJpeg(jpeg, { scale: 1, maxScans: 64, maxWorkBytes: 48 << 20 });
    const region = decodeJpeg(jpeg, { scale: 1, region: { x: 301, y: 200, width: 100, height: 50 }, maxScans: 64, maxWorkBytes: 48 << 20 });
    expect(region.x).toBeLessThanOrEqual(301);
    expect(region.x + region.width).toBeGreaterThanOrEqual(401);
    expect([region.y, region.height]).toEqual([200, 50]);
    // Inside the region the pixels are the full decode's; at its cropped left and right edges the
    // chroma upsampler lacks its neighbours, so a few columns there differ slightly.
    let diff = 0;
    for (let y = 0; y < 50; y++) {
      const a = full.data.subarray(((200 + y) * 999 + region.x) * 3, ((200 + y) * 999 + region.x + region.width) * 3);
      const b = region.data.subarray(y * region.width * 3, (y + 1) * region.width * 3);
      expect(Buffer.from(b.subarray(8 * 3, -8 * 3)).equals(Buffer.from(a.subarray(8 * 3, -8 * 3)))).toBe(true);
      for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
    }
    expect(diff / (50 * region.width * 3)).toBeLessThan(1);
  });
});
