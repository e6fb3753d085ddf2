/**
 * Bench-only worker (never deployed): runs a prefix of the edge pipeline on the posted photo so
 * bench/pipeline-workerd.ts and bench/intake.ts can time each phase from outside. workerd's clock
 * does not advance during synchronous work (a Spectre mitigation), so in-worker timers would read
 * 0 for decode, detect and align; differences between prefixes timed by the caller do not depend on it.
 *
 *   POST /?until=none|baseline|decode|detect|align|infer&repeat=R[&flip=0]   body: the photo
 *   POST /?until=limiter|hash|cache&repeat=R   the API's own steps before decoding, alone
 *   POST /?until=render&repeat=R               the whole infer prefix, then the answer rendered
 *                                              (src/api/render.ts) and serialised: render = render - infer
 *
 * Runs the prefix R times and answers {faces}. Same modules, models and onnxruntime-web (WASM)
 * backend as src/worker.ts's edge tier, through the same pipeline steps (src/inference/pipeline.ts)
 * as src/api/analyzer.ts.
 */
import ortWasm from "../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import webpWasm from "@jsquash/webp/codec/dec/webp_dec.wasm";
import jpegWasm from "../../src/vision/jpeg/libjpeg.wasm";
import { ADULT_AGE, minorRiskFor } from "../../src/api/minors";
import { renderFace } from "../../src/api/render";
import { analyzeQuerySchema } from "../../src/api/schemas";
import { createWebBackend } from "../../src/backends/web";
import { cropFaces, cropSpec, findFaces } from "../../src/inference/pipeline";
import { sha256Hex } from "../../src/crypto/sha256";
import { policiesOf } from "../../src/limits/plans";
import type { RateLimiter } from "../../src/limits/rate-limiter";
import { bundledCatalog } from "../../src/models/catalog";
import { EdgeModels } from "../../src/inference/edge-models";
import { Photo, setJpegDecoderModule, setWebPDecoderModule } from "../../src/vision";
import { baselineWork, PREFIXES } from "../support/phases";

export { RateLimiter } from "../../src/limits/rate-limiter";

setWebPDecoderModule(webpWasm);
setJpegDecoderModule(jpegWasm);
const edge = new EdgeModels(bundledCatalog, createWebBackend({ wasmModule: ortWasm }));
const STAGES = ["limiter", "hash", "cache"] as const;
/** The pipeline's prefixes, then the answer rendered: render = "render" - "infer", timed from outside. */
const UNTIL = [...PREFIXES, "render"] as const;
type Until = (typeof UNTIL)[number];
/** The API's default query on the fast tier: both attributes, no distribution, no score maps. */
const QUERY = analyzeQuerySchema.parse({ tier: "fast" });
type Stage = (typeof STAGES)[number];

interface BenchEnv {
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
}

async function runPrefix(bytes: Uint8Array, until: Until, flip: boolean): Promise<number> {
  if (until === "none") return 0;
  if (until === "baseline") return baselineWork() === -1 ? -1 : 0;
  const photo = await Photo.open(bytes);
  if (until === "decode") return 0;
  const faces = await findFaces(photo, await edge.detector());
  if (until === "detect") return faces.length;
  const models = await Promise.all([edge.attribute("age"), edge.attribute("beauty")]);
  const specs = models.map((model) => cropSpec(model.card));
  const cropsFor = await cropFaces(photo, faces, specs);
  const crops = specs.map(cropsFor);
  if (until === "align") return faces.length;
  // As the router asks the edge models on the fast tier (P(age < 18) for the minors policy).
  const [age, beauty] = await Promise.all(
    models.map((model, m) => model.predict(crops[m], { flip, probabilityBelow: m === 0 ? ADULT_AGE : undefined })),
  );
  if (until === "infer") return faces.length;
  const rendered = faces.map((face, i) =>
    renderFace(face, i, { age, beauty }, models[0].card, QUERY, minorRiskFor(models[0].card, undefined)),
  );
  return JSON.stringify({ faces: rendered }).length > 0 ? faces.length : -1;
}

/** The API's steps before decoding, as src/api/meter.ts and analyzer.ts make them. */
async function runStage(bytes: Uint8Array, stage: Stage, env: BenchEnv): Promise<void> {
  if (stage === "limiter") {
    await env.RATE_LIMITER.getByName("bench").consume(policiesOf({ per_minute: 1e9, per_day: 1e12 }), 1);
  } else if (stage === "hash") {
    await sha256Hex(bytes);
  } else {
    await (caches as unknown as { default: Cache }).default.match(new Request(`https://cache.invalid/${await sha256Hex(bytes)}`));
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const until = url.searchParams.get("until") as Until | Stage;
    const repeat = Math.max(1, Number(url.searchParams.get("repeat") ?? 1));
    const bytes = new Uint8Array(await request.arrayBuffer());
    let faces = 0;
    const flip = url.searchParams.get("flip") !== "0";
    if ((STAGES as readonly string[]).includes(until)) {
      for (let r = 0; r < repeat; r++) await runStage(bytes, until as Stage, env);
    } else if ((UNTIL as readonly string[]).includes(until)) {
      for (let r = 0; r < repeat; r++) faces = await runPrefix(bytes, until as Until, flip);
    } else return new Response(`until must be one of ${[...UNTIL, ...STAGES].join(", ")}`, { status: 400 });
    return Response.json({ faces, models: [bundledCatalog.edge.age.card.name, bundledCatalog.edge.beauty.card.name] });
  },
} satisfies ExportedHandler<BenchEnv>;
