/**
 * Bench-only worker (never deployed): runs a prefix of the edge pipeline on the posted photo so
 * bench/pipeline-workerd.ts can time each phase from outside. workerd's clock does not advance
 * during synchronous work (a Spectre mitigation), so in-worker timers would read 0 for decode,
 * detect and align; differences between prefixes timed by the caller do not depend on it.
 *
 *   POST /?until=none|baseline|decode|detect|align|infer&repeat=R[&flip=0]   body: the photo
 *
 * Runs the prefix R times and answers {faces}. Same modules, models and onnxruntime-web (WASM)
 * backend as src/worker.ts's edge tier.
 */
import ortWasm from "../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import webpWasm from "@jsquash/webp/codec/dec/webp_dec.wasm";
import jpegWasm from "../../src/vision/jpeg/libjpeg.wasm";
import { createWebBackend } from "../../src/inference/backends/web";
import { alignForModel } from "../../src/inference/pipeline";
import { bundledCatalog } from "../../src/routing/catalog";
import { EdgeModels } from "../../src/routing/edge-models";
import { decodeImage, setJpegDecoderModule, setWebPDecoderModule } from "../../src/vision";
import { baselineWork, PREFIXES, type Prefix } from "../support/phases";

setWebPDecoderModule(webpWasm);
setJpegDecoderModule(jpegWasm);
const edge = new EdgeModels(bundledCatalog, createWebBackend({ wasmModule: ortWasm }));

async function runPrefix(bytes: Uint8Array, until: Prefix, flip: boolean): Promise<number> {
  if (until === "none") return 0;
  if (until === "baseline") return baselineWork() === -1 ? -1 : 0;
  const image = await decodeImage(bytes);
  if (until === "decode") return 0;
  const faces = await (await edge.detector()).detect(image);
  if (until === "detect") return faces.length;
  const models = await Promise.all([edge.attribute("age"), edge.attribute("beauty")]);
  const crops = models.map((model) => faces.map((face) => alignForModel(image, face, model)));
  if (until === "align") return faces.length;
  await Promise.all(models.map((model, m) => model.predict(crops[m], { flip })));
  return faces.length;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const until = url.searchParams.get("until") as Prefix;
    if (!PREFIXES.includes(until)) return new Response(`until must be one of ${PREFIXES.join(", ")}`, { status: 400 });
    const repeat = Math.max(1, Number(url.searchParams.get("repeat") ?? 1));
    const bytes = new Uint8Array(await request.arrayBuffer());
    let faces = 0;
    for (let r = 0; r < repeat; r++) faces = await runPrefix(bytes, until, url.searchParams.get("flip") !== "0");
    return Response.json({ faces, models: [bundledCatalog.edge.age.card.name, bundledCatalog.edge.beauty.card.name] });
  },
} satisfies ExportedHandler;
