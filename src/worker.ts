/**
 * Cloudflare Worker entry: the public API (src/api) with the bundled models, and the
 * RateLimiter Durable Object class that wrangler.toml binds as RATE_LIMITER.
 */
// A relative path: wrangler resolves bundled modules without package "exports" maps.
import ortWasm from "../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
import webpWasm from "@jsquash/webp/codec/dec/webp_dec.wasm";
import jpegWasm from "./vision/jpeg/libjpeg.wasm";
import { createApp } from "./api/app";
import { createWebBackend } from "./backends/web";
import { bundledCatalog } from "./models/catalog";
import { playground } from "./playground";
import { setJpegDecoderModule, setWebPDecoderModule } from "./vision";

export { RateLimiter } from "./limits/rate-limiter";

// workerd cannot compile WebAssembly at run time: both runtimes get their precompiled modules.
setWebPDecoderModule(webpWasm);
setJpegDecoderModule(jpegWasm);

export const app = createApp({ catalog: bundledCatalog, backend: createWebBackend({ wasmModule: ortWasm }) });
app.route("/", playground);

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
} satisfies ExportedHandler<Env>;
