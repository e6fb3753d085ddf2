import { readFileSync } from "node:fs";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDetector } from "../../../src/cli/node-models";
import { readCsv } from "../../../src/cli/csv";
import { REPO } from "../../../src/cli/paths";
import { alignmentTemplateSchema } from "@faceage/contracts/card";
import {
  alignFace,
  applySimilarity,
  decodeImage,
  fitSimilarity,
  resize,
  warpSimilarity,
  type FaceDetector,
  type Point,
} from "../../../src/vision";
import { DATA_DIR } from "../../support/datasets";
import { describeWith } from "../../support/require-data";
import { FACE_PHOTOS, facePhoto, meanAbsDiff } from "./fixtures";

const template = (name: string) =>
  alignmentTemplateSchema.parse(JSON.parse(readFileSync(`${REPO}/training/templates/${name}.json`, "utf8")));

describe("fitSimilarity", () => {
  it("recovers a rotation + scale + shift exactly from noiseless points", () => {
    const angle = 0.4,
      scale = 1.7;
    const truth = { a: scale * Math.cos(angle), b: scale * Math.sin(angle), tx: 12, ty: -5 };
    const from: Point[] = [
      [10, 20],
      [50, 22],
      [30, 40],
      [31, 60],
      [0, 30],
      [62, 33],
    ];
    const fitted = fitSimilarity(
      from,
      from.map((p) => applySimilarity(truth, p)),
    );
    for (const k of ["a", "b", "tx", "ty"] as const) expect(fitted[k]).toBeCloseTo(truth[k], 10);
  });

  it("lets low-weight points (ears) pull less", () => {
    const to: Point[] = [
      [0, 0],
      [10, 0],
      [5, 5],
      [5, 10],
      [-5, 3],
      [15, 3],
    ];
    const from = to.map(([x, y], i) => (i >= 4 ? [x + 6, y + 6] : [x, y]) as Point); // ears displaced
    const even = fitSimilarity(from, to);
    const weighted = fitSimilarity(from, to, [1, 1, 1, 1, 0.01, 0.01]);
    const err = (t: typeof even) => Math.hypot(...applySimilarity(t, from[0]).map((v, j) => v - to[0][j]));
    expect(err(weighted)).toBeLessThan(err(even) / 10);
  });
});

describeWith("alignFace on real photos", { data: [FACE_PHOTOS, "utkface/labels.csv", "utkface/200", "utkface/64"] }, () => {
  let detector: FaceDetector;
  beforeAll(async () => {
    detector = await loadDetector();
  });
  afterAll(() => detector?.release());

  it("puts the detected keypoints on the template", async () => {
    const tpl = template("mebeauty");
    const image = await decodeImage(facePhoto(100));
    const [face] = await detector.detect(image);
    const crop = alignFace(image, face.keypoints, tpl, 224);
    expect([crop.width, crop.height, crop.data.length]).toEqual([224, 224, 224 * 224 * 3]);
    // Re-detecting on the crop finds eyes, nose and mouth where the template says (a few pixels).
    const [again] = await detector.detect(crop);
    for (let k = 0; k < 4; k++) {
      const [x, y] = again.keypoints[k];
      expect(Math.hypot(x - tpl.keypoints[k][0] * 224, y - tpl.keypoints[k][1] * 224), `keypoint ${k}`).toBeLessThan(224 * 0.04);
    }
  });

  it("fills outside the photo with its edge pixels by default, black on request", async () => {
    const image = await decodeImage(facePhoto(5));
    // Half of the output lies left of the photo.
    const t = { a: 1, b: 0, tx: 32, ty: 0 };
    const isBlack = (d: Uint8Array, i: number) => d[i] === 0 && d[i + 1] === 0 && d[i + 2] === 0;
    const black = warpSimilarity(image, t, 64, 64, { border: "black" });
    const edge = warpSimilarity(image, t, 64, 64);
    let blackPixels = 0,
      edgeBlack = 0;
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 30; x++) {
        const i = (y * 64 + x) * 3;
        if (isBlack(black.data, i)) blackPixels++;
        if (isBlack(edge.data, i)) edgeBlack++;
        // Edge: each row left of the photo repeats the photo's first column.
        expect(Math.abs(edge.data[i] - image.data[y * image.width * 3])).toBeLessThanOrEqual(1);
      }
    expect(blackPixels).toBe(64 * 30);
    expect(edgeBlack).toBeLessThan(64 * 30);
  });

  it("undoes an in-plane rotation of the photo", async () => {
    const tpl = template("utkface");
    const bytes = facePhoto(200);
    const rotatedBytes = await sharp(bytes).rotate(25, { background: "#000" }).jpeg({ quality: 95 }).toBuffer();
    const upright = await decodeImage(bytes);
    const rotated = await decodeImage(rotatedBytes);
    const a = alignFace(upright, (await detector.detect(upright))[0].keypoints, tpl, 64);
    const b = alignFace(rotated, (await detector.detect(rotated))[0].keypoints, tpl, 64);
    const aligned = meanAbsDiff(a.data, b.data);
    // Without alignment the two framings disagree far more.
    const naive = meanAbsDiff(resize(upright, 64, 64).data, resize(rotated, 64, 64).data);
    expect(aligned).toBeLessThan(12);
    expect(aligned).toBeLessThan(naive / 3);
  });

  it("frames UTKFace 200 px originals like their provided 64 px crops", async () => {
    const tpl = template("utkface");
    const rows = readCsv(`${DATA_DIR}/utkface/labels.csv`)
      .filter((r) => r.has200 === "1" && r.split === "test")
      .slice(0, 12);
    let aligned = 0,
      shifted = 0;
    for (const { file } of rows) {
      const big = await decodeImage(readFileSync(`${DATA_DIR}/utkface/200/${file}`));
      const small = await decodeImage(readFileSync(`${DATA_DIR}/utkface/64/${file}`));
      const [face] = await detector.detect(big);
      aligned += meanAbsDiff(alignFace(big, face.keypoints, tpl, 64).data, small.data) / rows.length;
      // The same face framed 10% off to the side, for scale.
      const off = face.keypoints.map(([x, y]) => [x + 20, y] as Point);
      shifted += meanAbsDiff(alignFace(big, off, tpl, 64).data, small.data) / rows.length;
    }
    expect(aligned).toBeLessThan(shifted / 1.5);
  });
});
