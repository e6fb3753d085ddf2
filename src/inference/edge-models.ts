/**
 * The in-worker models: the face detector and the small attribute models, loaded once per
 * isolate on first use (each attribute model only when first asked for).
 */
import { AttributeModel } from "./model";
import type { InferenceBackend } from "../backends/session";
import { FaceDetector } from "../vision/detect";
import type { Attribute } from "../api/schemas";
import type { ModelCatalog } from "../models/catalog";

export class EdgeModels {
  private detectorLoad: Promise<FaceDetector> | null = null;
  private readonly attributeLoads = new Map<Attribute, Promise<AttributeModel>>();

  constructor(
    private readonly catalog: ModelCatalog,
    private readonly backend: InferenceBackend,
  ) {}

  detector(): Promise<FaceDetector> {
    this.detectorLoad ??= retryable(
      () =>
        FaceDetector.create(new Uint8Array(this.catalog.detector.front), this.backend, {
          backModel: new Uint8Array(this.catalog.detector.back),
        }),
      () => (this.detectorLoad = null),
    );
    return this.detectorLoad;
  }

  attribute(attribute: Attribute): Promise<AttributeModel> {
    let load = this.attributeLoads.get(attribute);
    if (!load) {
      const { card, weights } = this.catalog.edge[attribute];
      load = retryable(
        () => AttributeModel.create(card, new Uint8Array(weights), this.backend),
        () => this.attributeLoads.delete(attribute),
      );
      this.attributeLoads.set(attribute, load);
    }
    return load;
  }

  /** Whether the detector has loaded (for /healthz; does not trigger a load). */
  get warm(): boolean {
    return this.detectorLoad !== null;
  }
}

/** A failed load is forgotten, so the next request tries again instead of failing forever. */
function retryable<T>(load: () => Promise<T>, forget: () => void): Promise<T> {
  const p = load();
  p.catch(forget);
  return p;
}
