/**
 * Photo: the preview and the finer re-reads of face regions must show the same pixels as a
 * full-resolution decode (libvips via sharp as the reference) at their scale, whatever the EXIF
 * orientation and format, and a face aligned from them must match one aligned from full pixels.
 */
import sharp from "sharp";
import { beforeAll, expect, it } from "vitest";
import { loadDetector } from "../../../src/cli/node-models";
import { alignFace, alignInView, detectFaces, faceViews, Photo, type FaceDetector, type RgbImage } from "../../../src/vision";
import { boxDownscale } from "../../../src/vision/photo";
import { loadCard } from "../../../src/cli/node-models";
import { describeWith } from "../../support/require-data";
import { FACE_PHOTOS, facePhoto, meanAbsDiff } from "./fixtures";

async function reference(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

function crop(image: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let j = 0; j < h; j++)
    data.set(image.data.subarray(((y + j) * image.width + x) * 3, ((y + j) * image.width + x + w) * 3), j * w * 3);
  return { width: w, height: h, data };
}

describeWith("Photo: preview and face regions", { data: [FACE_PHOTOS] }, () => {
  let detector: FaceDetector;
  beforeAll(async () => {
    detector = await loadDetector();
  });

  it("a 12 MP JPEG with EXIF orientation 6: a 1/8 preview and a 1/1 region that match the full image", async () => {
    const bytes = new Uint8Array(
      await sharp(facePhoto(3)).resize(4000, 3000, { fit: "fill" }).jpeg({ quality: 92 }).withMetadata({ orientation: 6 }).toBuffer(),
    );
    const full = await reference(bytes);
    const photo = await Photo.open(bytes);
    expect([photo.width, photo.height, photo.preview.scale]).toEqual([3000, 4000, 8]);
    expect(meanAbsDiff(photo.preview.image.data, boxDownscale(full, 8).data)).toBeLessThan(2);
    const view = await photo.region({ x0: 1000, y0: 1500, x1: 1300, y1: 1700 }, 1);
    expect(view.scale).toBe(1);
    expect(view.x).toBeLessThanOrEqual(1000);
    expect(view.y).toBeLessThanOrEqual(1500);
    const got = crop(view.image, 1000 - view.x, 1500 - view.y, 300, 200);
    expect(meanAbsDiff(got.data, crop(full, 1000, 1500, 300, 200).data)).toBeLessThan(2);
  });

  it("a PNG: preview and region averaged from the rows as they are inflated", async () => {
    const bytes = new Uint8Array(await sharp(facePhoto(3)).resize(1600, 1200, { fit: "fill" }).png().toBuffer());
    const full = await reference(bytes);
    const photo = await Photo.open(bytes);
    expect(photo.preview.scale).toBe(2);
    expect(meanAbsDiff(photo.preview.image.data, boxDownscale(full, 2).data)).toBeLessThan(0.6);
    const view = await photo.region({ x0: 100, y0: 200, x1: 500, y1: 400 }, 1);
    expect(meanAbsDiff(crop(view.image, 100 - view.x, 200 - view.y, 400, 200).data, crop(full, 100, 200, 400, 200).data)).toBe(0);
  });

  it("a small face in a 12 MP JPEG is re-read finer and aligned like from full pixels", async () => {
    // The face photo shrunk into a corner of a 4000x3000 frame: 1/8 of it is too coarse for the crop.
    const face = await sharp(facePhoto(3)).resize(300, 380).toBuffer();
    const bytes = new Uint8Array(
      await sharp({ create: { width: 4000, height: 3000, channels: 3, background: "#7a8a9a" } })
        .composite([{ input: face, left: 2900, top: 400 }])
        .jpeg({ quality: 92 })
        .toBuffer(),
    );
    const photo = await Photo.open(bytes);
    const faces = await detectFaces(photo, detector);
    expect(faces.length).toBeGreaterThanOrEqual(1);
    const { card } = loadCard("models/TinyAgeNet.json");
    const spec = { template: card.alignment.template!, size: card.input.size };
    const [view] = await faceViews(photo, faces.slice(0, 1), [spec]);
    expect(view.scale).toBeLessThan(photo.preview.scale);
    const fromView = alignInView(view, faces[0].keypoints, spec);
    const fromFull = alignFace(await reference(bytes), faces[0].keypoints, spec.template, spec.size);
    expect(meanAbsDiff(fromView.data, fromFull.data)).toBeLessThan(4);
  });
});
