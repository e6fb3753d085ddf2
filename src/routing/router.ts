/**
 * Latency-tiered routing of the attribute models (detection and alignment always run in the
 * worker; only aligned crops travel):
 *
 * - `fast`: the small models in the worker, no flip-averaging. Never leaves the worker.
 * - `standard`: the full models on the GPU runner within a deadline; on timeout, error, invalid
 *   answer, an open breaker or a latency EWMA over the deadline, the small in-worker models
 *   answer instead (route `edge-fallback`). With no runner configured, the small models are the
 *   tier's answer by design (route `edge`).
 * - `accurate`: the full models on the runner with flip-averaging; if the runner cannot answer,
 *   a 503 rather than a degraded answer.
 */
import { AttributeModel, type FacePrediction } from "../inference/model";
import { tierConfig, type ModelCard } from "@faceage/contracts/card";
import type { RgbImage } from "../vision/image";
import type { Attribute, Route, Tier } from "../api/schemas";
import type { ModelCatalog } from "../models/catalog";
import type { EdgeModels } from "../inference/edge-models";
import type { RunnerAttempt } from "./runner-attempt";
import { RunnerUnavailable, type RunnerClient } from "./runner-client";
import { RunnerSession } from "./runner-session";

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
    const onEdge = tier === "fast" || (tier === "standard" && !this.runner);
    return attributes.map((a) => (onEdge ? this.catalog.edge[a].card : this.catalog.runner[a]));
  }

  async estimate(request: EstimateRequest): Promise<Estimation> {
    const { tier } = request;
    if (tier === "fast") return this.onEdge(request, "edge");
    if (!this.runner) {
      if (tier === "accurate") throw new RunnerUnavailable("not-configured", "no runner is configured");
      // A deployment without a runner serves standard from the edge models by design: nothing
      // failed, so the answer is route `edge` and cacheable (keyed by the edge cards, cardsFor).
      return this.onEdge(request, "edge");
    }
    const deadlineMs = tier === "accurate" ? this.policy.accurateDeadlineMs : this.policy.standardDeadlineMs;
    if (tier === "standard") {
      const admission = this.runner.tier(tier).admit(deadlineMs, this.policy.slowRunnerProbeMs);
      if (admission !== "call") return this.onEdge(request, "edge-fallback", admission);
    }
    let attempt: RunnerAttempt;
    try {
      attempt = this.runner.begin(tier, deadlineMs);
    } catch (err) {
      if (tier === "accurate" || !(err instanceof RunnerUnavailable)) throw err;
      return this.onEdge(request, "edge-fallback", err.reason);
    }
    try {
      const out = await this.onRunner(attempt, request, tier);
      attempt.succeed();
      return out;
    } catch (err) {
      attempt.close();
      if (tier === "accurate" || !(err instanceof RunnerUnavailable)) throw err;
      return this.onEdge(request, "edge-fallback", err.reason);
    }
  }

  private async onEdge(request: EstimateRequest, route: Route, fallbackReason?: string): Promise<Estimation> {
    const out: Estimation = { route, predictions: {}, models: {}, ...(fallbackReason ? { fallbackReason } : {}) };
    for (const attribute of request.attributes) {
      const model = await this.edge.attribute(attribute);
      // The edge models serve one configuration, `fast`'s, also when they stand in for `standard`.
      out.predictions[attribute] = await model.predict(request.cropsFor(model.card), {
        ...tierConfig(model.card, "fast"),
        distribution: request.distribution,
        scoremap: request.scoremap,
        probabilityBelow: request.probabilityBelow?.[attribute],
      });
      out.models[attribute] = { name: model.card.name, version: model.card.version };
    }
    return out;
  }

  private async onRunner(attempt: RunnerAttempt, request: EstimateRequest, tier: Tier): Promise<Estimation> {
    const out: Estimation = { route: "gpu", predictions: {}, models: {} };
    // Both attributes in parallel: the attempt's one deadline bounds the slower of the two, and
    // its one breaker permit covers both (a half-open probe is the whole request).
    await Promise.all(
      request.attributes.map(async (attribute) => {
        const card = this.catalog.runner[attribute];
        const model = AttributeModel.fromSession(card, new RunnerSession(attempt, card, this.policy.runnerMaxBatch));
        out.predictions[attribute] = await model.predict(request.cropsFor(card), {
          ...tierConfig(card, tier),
          distribution: request.distribution,
          scoremap: request.scoremap,
          probabilityBelow: request.probabilityBelow?.[attribute],
        });
        out.models[attribute] = { name: card.name, version: card.version };
      }),
    );
    return out;
  }
}
