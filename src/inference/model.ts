import { sha256Hex } from "../crypto/sha256";
import type { ModelCard, TierConfig } from "@faceage/contracts/card";
import { flipHorizontal, zoomAboutCentre, type RgbImage } from "../vision/image";
import { resize } from "../vision/resize";
import type { InferenceBackend, ModelSession } from "../backends/session";
import { expectation, labelVector, quantile, std, temperatureProbs } from "./label-math";

/** Views to average (a card tier's `flip` and `zoom`, tierConfig; flip defaults to true), and what to return. */
export interface PredictOptions extends Partial<TierConfig> {
  /** Include the calibrated label distribution. */
  distribution?: boolean;
  /** Include the score map (card.outputs.scoremap, [h][w]). */
  scoremap?: boolean;
  /** Include the calibrated probability that the label is below this value (e.g. age < 18). */
  probabilityBelow?: number;
}

export interface FacePrediction {
  /** Expectation of the (flip-averaged) predicted distribution: the model's estimate. */
  value: number;
  /** Standard deviation of the calibrated distribution. */
  std: number;
  /** 5%..95% quantiles of the calibrated distribution (card.calibration.temperature). */
  interval90: [number, number];
  /** Calibrated probabilities over the card's label vector, when asked for. */
  distribution?: number[];
  /** Per-cell scores, [h][w], when asked for. */
  scoremap?: number[][];
  /** Calibrated P(label < options.probabilityBelow), when asked for. */
  probabilityBelow?: number;
}

/**
 * Crops per model run (each view adds as many rows), bounding memory for crowded photos; also the
 * default of how many crops one runner request carries (RUNNER_MAX_BATCH).
 */
export const MAX_BATCH = 32;

/**
 * A DLDL-v2 model (age or attractiveness) driven by its card alone: input name/size/layout,
 * label vector, output names and calibration all come from `card`.
 */
export class AttributeModel {
  private readonly labels: Float64Array;
  private readonly probsOutput: string;
  private readonly temperature: number;

  private constructor(
    readonly card: ModelCard,
    private readonly session: ModelSession,
    /** The head that answers: a panel of card.panels, or undefined for the served head. */
    readonly panel?: string,
  ) {
    const head = panel === undefined ? card : card.panels?.[panel];
    if (!head) throw new Error(`${card.name}: no panel ${panel} (card panels: ${Object.keys(card.panels ?? {}).join(", ") || "none"})`);
    this.labels = labelVector(head.labels);
    this.probsOutput = head.outputs.probs.name;
    this.temperature = head.calibration.temperature;
  }

  /** The same network and session, answering with another rater panel's head (card.panels). */
  withPanel(panel: string): AttributeModel {
    return new AttributeModel(this.card, this.session, panel);
  }

  /**
   * `model`: the ONNX bytes of `card.file`; refused when their SHA-256 differs from the card's
   * (a card and weights from different exports would silently give wrong numbers).
   */
  static async create(card: ModelCard, model: Uint8Array, backend: InferenceBackend): Promise<AttributeModel> {
    const hex = await sha256Hex(model);
    if (hex !== card.sha256) throw new Error(`${card.name}: model bytes have sha256 ${hex}, card says ${card.sha256}`);
    if (card.input.layout !== "NHWC") throw new Error(`${card.name}: only NHWC uint8 inputs are supported`);
    return new AttributeModel(card, await backend.createSession(model));
  }

  /**
   * A model whose session runs elsewhere (the edge worker's RunnerSession: the GPU runner, over
   * its protocol). Its weights are not at hand to check, so the caller vouches that `session`
   * serves `card`; the runner's raw outputs then get exactly this class's flip-averaging and
   * calibration, so the edge and the runner cannot drift apart.
   */
  static fromSession(card: ModelCard, session: ModelSession): AttributeModel {
    if (card.input.layout !== "NHWC") throw new Error(`${card.name}: only NHWC uint8 inputs are supported`);
    return new AttributeModel(card, session);
  }

  /**
   * One prediction per crop, in order. Crops should be aligned faces of card.input.size square
   * (see alignFace); other sizes are resized first. All crops of a request go through in batches.
   */
  async predict(crops: readonly RgbImage[], options: PredictOptions = {}): Promise<FacePrediction[]> {
    const out: FacePrediction[] = [];
    for (let i = 0; i < crops.length; i += MAX_BATCH) out.push(...(await this.predictBatch(crops.slice(i, i + MAX_BATCH), options)));
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  private async predictBatch(crops: readonly RgbImage[], options: PredictOptions): Promise<FacePrediction[]> {
    const n = crops.length;
    if (n === 0) return [];
    const flip = options.flip ?? true;
    const size = this.card.input.size;
    const plane = size * size * 3;
    const sized = crops.map((c) => (c.width === size && c.height === size ? c : resize(c, size, size)));
    // Rows, view-major: view v of crop i is row v * n + i. Views: the crop, then each zoom, then
    // (with flip) the mirror of each of those, so the crop's mirror is row views.length * n + i.
    const unflipped = [sized, ...(options.zoom ?? []).map((scale) => sized.map((c) => zoomAboutCentre(c, scale)))];
    const views = flip ? [...unflipped, ...unflipped.map((view) => view.map(flipHorizontal))] : unflipped;
    const mirrorRow = unflipped.length * n;
    const rows = views.length * n;
    const input = new Uint8Array(rows * plane);
    for (const [v, view] of views.entries()) {
      for (const [i, crop] of view.entries()) input.set(crop.data, (v * n + i) * plane);
    }
    const result = await this.session.run({
      [this.card.input.name]: { type: "uint8", data: input, dims: [rows, size, size, 3] },
    });
    const probs = result[this.probsOutput].data;
    const k = this.labels.length;
    // Score maps exist for the served head only.
    const maps = options.scoremap && this.panel === undefined ? result[this.card.outputs.scoremap.name] : null;
    const [mh, mw] = maps ? maps.dims.slice(1) : [0, 0];
    const temperature = this.temperature;

    return crops.map((_, i) => {
      // The views' distributions are averaged (not their expectations): DLDL's ensemble rule.
      const p = new Float64Array(k);
      for (let v = 0; v < views.length; v++) {
        for (let j = 0; j < k; j++) p[j] += probs[(v * n + i) * k + j] / views.length;
      }
      const calibrated = temperature === 1 ? p : temperatureProbs(p, temperature);
      const prediction: FacePrediction = {
        value: expectation(p, this.labels),
        std: std(calibrated, this.labels),
        interval90: [quantile(calibrated, this.labels, 0.05), quantile(calibrated, this.labels, 0.95)],
      };
      if (options.distribution) prediction.distribution = Array.from(calibrated);
      if (options.probabilityBelow !== undefined) {
        const below = options.probabilityBelow;
        prediction.probabilityBelow = this.labels.reduce((sum, label, j) => (label < below ? sum + calibrated[j] : sum), 0);
      }
      if (maps) {
        const m = maps.data;
        prediction.scoremap = Array.from({ length: mh }, (_, y) =>
          Array.from({ length: mw }, (_, x) => {
            const a = m[(i * mh + y) * mw + x];
            // The mirrored crop's map is mirrored back before averaging; zoomed views' maps do not
            // line up with the crop's cells and are left out.
            return flip ? (a + m[((mirrorRow + i) * mh + y) * mw + (mw - 1 - x)]) / 2 : a;
          }),
        );
      }
      return prediction;
    });
  }
}
