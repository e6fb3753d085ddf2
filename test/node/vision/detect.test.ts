import { readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadDetector } from "../../../src/cli/node-models";
import { decodeImage, type Face, type FaceDetector } from "../../../src/vision";
import { DATA_DIR, listImages } from "../../support/datasets";
import { describeWith } from "../../support/require-data";
import { FACE_PHOTOS, facePhoto } from "./fixtures";

/** Eyes above nose above mouth, right eye left of left eye in the image, landmarks in the box. */
function expectPlausible(face: Face, label: string) {
  const [rightEye, leftEye, nose, mouth, rightEar, leftEar] = face.keypoints;
  const { x, y, width, height } = face.box;
  expect(rightEye[0], label).toBeLessThan(leftEye[0]);
  expect(Math.max(rightEye[1], leftEye[1]), label).toBeLessThan(nose[1]);
  expect(nose[1], label).toBeLessThan(mouth[1]);
  // Ears are not checked against the nose: in profile the hidden ear lands beside it (correctly).
  expect(rightEar[0], label).toBeLessThan(leftEar[0]);
  for (const [px, py] of [rightEye, leftEye, nose, mouth]) {
    expect(px, label).toBeGreaterThan(x);
    expect(px, label).toBeLessThan(x + width);
    expect(py, label).toBeGreaterThan(y);
    expect(py, label).toBeLessThan(y + height);
  }
  expect(face.score).toBeGreaterThanOrEqual(0.5);
}

describeWith("FaceDetector (BlazeFace) on real photos", { data: [FACE_PHOTOS, "mebeauty/photos"] }, () => {
  let detector: FaceDetector;
  beforeAll(async () => {
    detector = await loadDetector();
  });
  afterAll(() => detector?.release());

  it("finds one face with plausible keypoints in AAF photos", async () => {
    const files = listImages(join(DATA_DIR, "aaf/faces")).filter((_, i) => i % 331 === 0); // 21 photos across ages
    for (const file of files) {
      const image = await decodeImage(readFileSync(file));
      const faces = await detector.detect(image);
      expect(faces.length, file).toBe(1);
      expectPlausible(faces[0], file);
      // An AAF photo is eye-aligned with the whole head: the face is a good part of the frame.
      expect(faces[0].box.width, file).toBeGreaterThan(image.width * 0.3);
    }
  });

  it("finds faces with plausible keypoints in MEBeauty photos", async () => {
    const files = listImages(join(DATA_DIR, "mebeauty/photos")).filter((_, i) => i % 53 === 0);
    for (const file of files) {
      const faces = await detector.detect(await decodeImage(readFileSync(file)));
      expect(faces.length, file).toBeGreaterThanOrEqual(1);
      expectPlausible(faces[0], file);
    }
  });

  it("returns several faces, largest first, in image coordinates", async () => {
    const big = await sharp(facePhoto(10)).resize({ height: 400 }).toBuffer();
    const small = await sharp(facePhoto(20)).resize({ height: 250 }).toBuffer();
    const group = await sharp({ create: { width: 900, height: 460, channels: 3, background: "#7f7f7f" } })
      .composite([
        { input: small, left: 40, top: 150 },
        { input: big, left: 480, top: 30 },
      ])
      .jpeg()
      .toBuffer();
    const faces = await detector.detect(await decodeImage(group));
    expect(faces.length).toBe(2);
    expect(faces[0].box.width).toBeGreaterThan(faces[1].box.width);
    expect(faces[0].box.x).toBeGreaterThan(480); // the big face was pasted on the right
    expect(faces[1].box.x + faces[1].box.width).toBeLessThan(480);
    for (const [i, f] of faces.entries()) expectPlausible(f, `face ${i}`);
  });

  it("finds a small face in a large frame (back model fallback)", async () => {
    const face = await sharp(facePhoto(30)).resize({ height: 150 }).toBuffer();
    const scene = await sharp({ create: { width: 1200, height: 900, channels: 3, background: "#6a7a5a" } })
      .composite([{ input: face, left: 700, top: 500 }])
      .jpeg()
      .toBuffer();
    const image = await decodeImage(scene);
    const front = await loadDetector({ backMode: "never" });
    expect(await front.detect(image)).toEqual([]); // too small for the 128 front model alone
    const faces = await detector.detect(image);
    expect(faces.length).toBe(1);
    expectPlausible(faces[0], "small face");
    expect(faces[0].box.x).toBeGreaterThan(690);
    expect(faces[0].box.y).toBeGreaterThan(490);
    await front.release();
  });

  it("finds no face in a photo without one", async () => {
    const noise = new Uint8Array(320 * 240 * 3).map((_, i) => (i * 2654435761) % 251);
    const png = await sharp(Buffer.from(noise), { raw: { width: 320, height: 240, channels: 3 } })
      .png()
      .toBuffer();
    expect(await detector.detect(await decodeImage(png))).toEqual([]);
  });
});
