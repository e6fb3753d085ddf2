/**
 * A `ModelSession` whose inference runs on the GPU runner. Wrapped in an `AttributeModel` with
 * the runner model's card, the runner's raw outputs go through exactly the same flip-averaging,
 * calibration and statistics as the in-worker models: one implementation, no serving skew.
 */
import type { InputTensor, ModelSession, OutputTensor } from "../backends/session";
import { MAX_BATCH } from "../inference/model";
import type { ModelCard } from "@faceage/contracts/card";
import type { DecodedInferResponse } from "@faceage/contracts/runner-protocol";
import type { RunnerAttempt } from "./runner-attempt";
import { RunnerUnavailable } from "./runner-unavailable";

export class RunnerSession implements ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    /** The request's attempt: its calls share one deadline and one outcome. */
    private readonly attempt: RunnerAttempt,
    private readonly card: ModelCard,
    /** Most crops the runner takes in one request (its RUNNER_MAX_BATCH); larger runs are split. */
    private readonly maxRows = MAX_BATCH,
  ) {
    this.inputNames = [card.input.name];
    this.outputNames = [card.outputs.probs.name, card.outputs.value.name, card.outputs.scoremap.name];
  }

  async run(feeds: Record<string, InputTensor>): Promise<Record<string, OutputTensor>> {
    const input = feeds[this.card.input.name];
    if (input?.type !== "uint8") throw new Error(`${this.card.name}: expects a uint8 '${this.card.input.name}' input`);
    const [rows, ...rest] = input.dims;
    const rowBytes = rest.reduce((a, b) => a * b, 1);
    const chunks: Promise<DecodedInferResponse>[] = [];
    for (let start = 0; start < rows; start += this.maxRows) {
      const n = Math.min(this.maxRows, rows - start);
      chunks.push(
        this.attempt.infer({
          model: this.card.name,
          crops: (input.data as Uint8Array).subarray(start * rowBytes, (start + n) * rowBytes),
          shape: [n, ...rest],
          outputs: [...this.outputNames],
          validate: (r) => this.validate(r, n),
        }),
      );
    }
    const answers = await Promise.all(chunks);
    const out: Record<string, OutputTensor> = {};
    for (const name of this.outputNames) {
      const parts = answers.map((a) => a.outputs[name]);
      const total = parts.reduce((s, p) => s + p.data.length, 0);
      const data = new Float32Array(total);
      let offset = 0;
      for (const p of parts) {
        data.set(p.data as Float32Array, offset);
        offset += p.data.length;
      }
      out[name] = { data, dims: [rows, ...parts[0].shape.slice(1)] };
    }
    return out;
  }

  async release(): Promise<void> {}

  /** The answer must be this model's, with the card's shapes and finite probabilities. */
  private validate(response: DecodedInferResponse, n: number): void {
    const k = this.card.labels.k;
    const bad = (why: string) => new RunnerUnavailable("invalid-response", `${this.card.name}: ${why}`);
    if (response.modelName !== this.card.name) throw bad(`answer is for model ${response.modelName}`);
    if (response.modelVersion !== undefined && response.modelVersion !== this.card.version) {
      throw bad(`runner serves version ${response.modelVersion}, the worker's card is ${this.card.version}`);
    }
    const probs = response.outputs[this.card.outputs.probs.name];
    if (probs?.datatype !== "FP32" || probs.shape.length !== 2 || probs.shape[0] !== n || probs.shape[1] !== k) {
      throw bad(`probs must be FP32 [${n}, ${k}]`);
    }
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const p = probs.data[i * k + j] as number;
        if (!(p >= 0 && p <= 1)) throw bad("probs are not probabilities");
        sum += p;
      }
      if (Math.abs(sum - 1) > 1e-3) throw bad("probs do not sum to 1");
    }
    for (const name of [this.card.outputs.value.name, this.card.outputs.scoremap.name]) {
      const t = response.outputs[name];
      if (t?.datatype !== "FP32" || t.shape[0] !== n) throw bad(`${name} missing or mis-shaped`);
      for (const v of t.data as Float32Array) if (!Number.isFinite(v)) throw bad(`${name} is not finite`);
    }
  }
}
