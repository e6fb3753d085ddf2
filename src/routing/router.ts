/**
 * Latency-tiered routing of the attribute models (detection and alignment always run in the
 * worker; only aligned crops travel):
 *
 * - `fast`: the small models in the worker, no flip-averaging. Never leaves the worker.
 * - `standard`: the full models on the GPU runner within a deadline; on timeout, error, invalid
 *   answer, an open breaker or a latency EWMA over the deadline, the small in-worker models
 *   answer instead (route `edge-fallback`).
 * - `accurate`: the full models on the runner with flip-averaging; if the runner cannot answer,
 *   a 503 rather than a degraded answer.
 */
import { AttributeModel, type FacePrediction } from "../inference/model";
import type { ModelCard } from "../models/card";
import type { RgbImage } from "../vision/image";
import type { Attribute, ModelCatalog } from "./catalog";
import type { EdgeModels } from "./edge-models";
import { RunnerUnavailable, type RunnerClient } from "./runner-client";
import { RunnerSession } from "./runner-session";

export type Tier = "fast" | "standard" | "accurate";
export type Route = "edge" | "gpu" | "edge-fallback";

export interface TierPolicy {
  standardDeadlineMs: number;
  accurateDeadlineMs: number;
  runnerMaxBatch: number;
  /** A runner slower than `standard`'s deadline is skipped, and probed again this long after its last answer. */
  slowRunnerProbeMs: number;
}

export interface EstimateRequest {
  tier: Tier;
  attributes: readonly Attribute[];
  /** Aligned crops for a card (its template and input size); the caller memoises them. */
  cropsFor: (card: ModelCard) => RgbImage[];
  distribution: boolean;
  scoremap: boolean;
  /** Per attribute, a label value whose calibrated "below" probability the caller needs. */
  probabilityBelow?: Partial<Record<Attribute, number>>;
}

export interface Estimation {
  route: Route;
  /** Why the runner was not used, when route is `edge-fallback`. */
  fallbackReason?: string;
  predictions: Partial<Record<Attribute, FacePrediction[]>>;
  models: Partial<Record<Attribute, { name: string; version: string }>>;
}

export class TieredRouter {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly edge: EdgeModels,
    /** null when no runner is configured (RUNNER_URL empty). */
    private readonly runner: RunnerClient | null,
    private readonly policy: TierPolicy,
  ) {}

  /** The cards that would answer a tier when all goes well (what the answer cache is keyed by). */
  cardsFor(tier: Tier, attributes: readonly Attribute[]): ModelCard[] {
    return attributes.map((a) => (tier === "fast" ? this.catalog.edge[a].card : this.catalog.runner[a]));
  }

  async estimate(request: EstimateRequest): Promise<Estimation> {
    const { tier } = request;
    if (tier === "fast") return this.onEdge(request, "edge");
    const deadlineMs = tier === "accurate" ? this.policy.accurateDeadlineMs : this.policy.standardDeadlineMs;
    if (!this.runner) {
      if (tier === "accurate") throw new RunnerUnavailable("not-configured", "no runner is configured");
      return this.onEdge(request, "edge-fallback", "not-configured");
    }
    if (tier === "standard" && !this.runner.expectedWithin(deadlineMs, this.policy.slowRunnerProbeMs)) {
      return this.onEdge(request, "edge-fallback", this.runner.breaker.state === "open" ? "breaker-open" : "slow");
    }
    try {
      return await this.onRunner(this.runner, request, deadlineMs, tier === "accurate");
    } catch (err) {
      if (tier === "accurate" || !(err instanceof RunnerUnavailable)) throw err;
      return this.onEdge(request, "edge-fallback", err.reason);
    }
  }

  private async onEdge(request: EstimateRequest, route: Route, fallbackReason?: string): Promise<Estimation> {
    const out: Estimation = { route, predictions: {}, models: {}, ...(fallbackReason ? { fallbackReason } : {}) };
    for (const attribute of request.attributes) {
      const model = await this.edge.attribute(attribute);
      out.predictions[attribute] = await model.predict(request.cropsFor(model.card), {
        flip: false,
        distribution: request.distribution,
        scoremap: request.scoremap,
        probabilityBelow: request.probabilityBelow?.[attribute],
      });
      out.models[attribute] = { name: model.card.name, version: model.card.version };
    }
    return out;
  }

  private async onRunner(runner: RunnerClient, request: EstimateRequest, deadlineMs: number, flip: boolean): Promise<Estimation> {
    const out: Estimation = { route: "gpu", predictions: {}, models: {} };
    const one = async (attribute: Attribute) => {
      const card = this.catalog.runner[attribute];
      const model = AttributeModel.fromSession(card, new RunnerSession(runner, card, deadlineMs, this.policy.runnerMaxBatch));
      out.predictions[attribute] = await model.predict(request.cropsFor(card), {
        flip,
        distribution: request.distribution,
        scoremap: request.scoremap,
        probabilityBelow: request.probabilityBelow?.[attribute],
      });
      out.models[attribute] = { name: card.name, version: card.version };
    };
    // Both attributes in parallel: the deadline bounds the slower of the two calls. While the
    // breaker is not closed, one after the other: the first call is the breaker's single probe,
    // and a parallel sibling would be refused and throw the probe's answer away.
    if (runner.breaker.state === "closed") await Promise.all(request.attributes.map(one));
    else for (const attribute of request.attributes) await one(attribute);
    return out;
  }
}
