/**
 * Model inference and DLDL-v2 label math, runtime-agnostic. Pick a backend where you run:
 * `createNodeBackend()` from "../backends/node" (Node only) or `createWebBackend({ wasmModule })`
 * from "../backends/web" (workerd, browsers); neither is re-exported here, so importing this index
 * pulls in no onnxruntime build.
 *
 *   const model = await AttributeModel.create(card, onnxBytes, backend);
 *   const [age] = await model.predict([crop], { flip: true });       // { value, std, interval90 }
 */
export type { InferenceBackend, ModelSession, InputTensor, OutputTensor } from "../backends/session";
export { AttributeModel, type FacePrediction, type PredictOptions } from "./model";
export {
  AGE_BANDS,
  expectation,
  labelDistribution,
  labelVector,
  metrics,
  quantile,
  softmax,
  std,
  temperatureProbs,
  type BandError,
  type LabelSpace,
  type Metrics,
} from "./label-math";
export {
  analyzePhoto,
  analyzeImage,
  analyzeOpened,
  alignForModel,
  cropFaces,
  cropSpec,
  findFaces,
  type AnalyzeOptions,
  type AnalyzedFace,
  type FaceCrops,
  type PhaseTimings,
} from "./pipeline";
