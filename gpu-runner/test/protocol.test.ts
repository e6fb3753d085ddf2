/** The shared Open Inference Protocol codec, both directions, both encodings. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  INFERENCE_HEADER_CONTENT_LENGTH,
  ProtocolError,
  decodeInferResponse,
  decodeRequest,
  decodeResponse,
  encodeInferRequest,
  encodeResponse,
  type InferResponse,
} from "@faceage/contracts/runner-protocol";
import { REPO_ROOT } from "./runner-process";

const crops = Uint8Array.from({ length: 2 * 4 * 4 * 3 }, (_, i) => (i * 37) % 256);
const shape = [2, 4, 4, 3];

const response: InferResponse = {
  model_name: "ThinAgeNet",
  model_version: "abc",
  id: "r1",
  outputs: [
    { name: "probs", datatype: "FP32", shape: [2, 3], data: Float32Array.from([0.1, 0.2, 0.7, 1 / 3, 1 / 3, 1 / 3]) },
    { name: "value", datatype: "FP32", shape: [2], data: Float32Array.from([42.125, 7.0000001]) },
    { name: "count", datatype: "INT64", shape: [2], data: BigInt64Array.from([3n, -9n]) },
    { name: "flag", datatype: "BOOL", shape: [2], data: Uint8Array.from([1, 0]) },
  ],
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

describe("runner-protocol", () => {
  it("round-trips uint8 crops in binary and in JSON, with the requested outputs", () => {
    for (const binary of [true, false]) {
      const req = encodeInferRequest("ThinAgeNet", crops, shape, { binary, outputs: ["probs", "value"], id: "x" });
      expect(req.path).toBe("/v2/models/ThinAgeNet/infer");
      expect(req.headers["content-type"]).toBe(binary ? "application/octet-stream" : "application/json");
      expect(req.headers[INFERENCE_HEADER_CONTENT_LENGTH.toLowerCase()] !== undefined).toBe(binary);
      // Binary bodies carry the raw crops after the header: smaller than JSON.
      if (binary) expect(req.body.byteLength).toBeLessThan(crops.byteLength + 400);
      const decoded = decodeRequest(req.body, new Headers(req.headers));
      expect(decoded.id).toBe("x");
      expect(decoded.inputs).toHaveLength(1);
      expect(decoded.inputs[0]).toMatchObject({ name: "image", datatype: "UINT8", shape });
      expect(Array.from(decoded.inputs[0].data as Uint8Array)).toEqual(Array.from(crops));
      expect(decoded.outputs).toEqual([
        { name: "probs", binary },
        { name: "value", binary },
      ]);
    }
  });

  it("without listed outputs, asks for all of them through binary_data_output", () => {
    const req = encodeInferRequest("M", crops, shape);
    const decoded = decodeRequest(req.body, req.headers);
    expect(decoded.outputs).toBeUndefined();
    expect(decoded.binaryOutputs).toBe(true);
  });

  it("refuses crops that do not fill the shape", () => {
    expect(() => encodeInferRequest("M", crops.subarray(1), shape)).toThrow(ProtocolError);
  });

  it("round-trips responses with mixed binary and JSON outputs, bit for bit", () => {
    for (const binary of [new Set<string>(), new Set(["probs", "count"]), new Set(["probs", "value", "count", "flag"])]) {
      const enc = encodeResponse(response, binary);
      // Plain-record headers with any capitalisation work as well as Headers.
      const headers = Object.fromEntries(Object.entries(enc.headers).map(([k, v]) => [k.toUpperCase(), v]));
      const dec = decodeResponse(enc.body, headers);
      expect(dec.model_name).toBe("ThinAgeNet");
      expect(dec.model_version).toBe("abc");
      expect(dec.id).toBe("r1");
      for (const [i, t] of response.outputs.entries()) {
        expect(dec.outputs[i]).toMatchObject({ name: t.name, datatype: t.datatype, shape: t.shape });
        expect(dec.outputs[i].data.constructor).toBe(t.data.constructor);
        expect(Array.from(dec.outputs[i].data as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
      }
    }
  });

  it("decodes a response laid out exactly as Triton sends it", () => {
    const values = Float32Array.from([1.5, -2.25]);
    const header = new TextEncoder().encode(
      JSON.stringify({
        model_name: "m",
        outputs: [
          { name: "value", datatype: "FP32", shape: [2], parameters: { binary_data_size: 8 } },
          { name: "probs", datatype: "FP32", shape: [1, 2], data: [0.25, 0.75] },
        ],
      }),
    );
    const body = concat(header, new Uint8Array(values.buffer));
    const out = decodeInferResponse(body, new Headers({ [INFERENCE_HEADER_CONTENT_LENGTH]: String(header.byteLength) }));
    expect(Array.from(out.outputs.value.data as Float32Array)).toEqual([1.5, -2.25]);
    expect(Array.from(out.outputs.probs.data as Float32Array)).toEqual([0.25, 0.75]);
    expect(out.outputs.probs.shape).toEqual([1, 2]);
  });

  it("accepts nested JSON data and booleans, and checks every value", () => {
    const body = new TextEncoder().encode(
      JSON.stringify({
        inputs: [
          {
            name: "x",
            datatype: "UINT8",
            shape: [2, 2],
            data: [
              [1, 2],
              [3, 255],
            ],
          },
          { name: "b", datatype: "BOOL", shape: [2], data: [true, false] },
        ],
      }),
    );
    const r = decodeRequest(body, {});
    expect(Array.from(r.inputs[0].data as Uint8Array)).toEqual([1, 2, 3, 255]);
    expect(Array.from(r.inputs[1].data as Uint8Array)).toEqual([1, 0]);
  });

  it("throws ProtocolError for malformed messages", () => {
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    const t = (extra: object) => ({ inputs: [{ name: "x", datatype: "UINT8", shape: [2], data: [1, 2], ...extra }] });
    const good = encodeInferRequest("M", crops, shape);
    const headerLength = Number(good.headers[INFERENCE_HEADER_CONTENT_LENGTH.toLowerCase()]);
    const bad: [string, Uint8Array, Record<string, string>][] = [
      ["not JSON", new TextEncoder().encode("{"), {}],
      ["not UTF-8", Uint8Array.from([0xff, 0xfe]), {}],
      ["no inputs", enc({ inputs: [] }), {}],
      ["negative dim", enc(t({ shape: [-2] })), {}],
      ["short data", enc(t({ data: [1] })), {}],
      ["out of range", enc(t({ data: [1, 256] })), {}],
      ["string values", enc(t({ data: ["1", "2"] })), {}],
      ["unknown datatype", enc(t({ datatype: "BF16" })), {}],
      ["data and binary", enc(t({ parameters: { binary_data_size: 2 } })), {}],
      ["duplicate input", enc({ inputs: [t({}).inputs[0], t({}).inputs[0]] }), {}],
      ["binary flag not boolean", enc({ ...t({}), outputs: [{ name: "y", parameters: { binary_data: "yes" } }] }), {}],
      ["truncated binary", good.body.subarray(0, good.body.byteLength - 1), good.headers],
      ["extra binary", concat(good.body, Uint8Array.of(0)), good.headers],
      ["header length past body", good.body, { [INFERENCE_HEADER_CONTENT_LENGTH]: String(good.body.byteLength + 1) }],
      ["header length negative", good.body, { [INFERENCE_HEADER_CONTENT_LENGTH]: "-1" }],
      ["header length splits JSON", good.body, { [INFERENCE_HEADER_CONTENT_LENGTH]: String(headerLength - 1) }],
      ["binary without header length", good.body, {}],
    ];
    for (const [what, body, headers] of bad) {
      expect(() => decodeRequest(body, headers), what).toThrow(ProtocolError);
    }
  });

  it("turns an error body into a ProtocolError carrying the runner's detail", () => {
    const body = new TextEncoder().encode(
      JSON.stringify({ type: "about:blank", status: 503, detail: "the queue is full", error: "the queue is full" }),
    );
    expect(() => decodeInferResponse(body, {})).toThrow(/queue is full/);
  });

  it("uses no Node APIs, so the edge worker can import it", async () => {
    const source = await readFile(path.join(REPO_ROOT, "packages/contracts/src/runner-protocol.ts"), "utf8");
    const imports = [...source.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports).toEqual(["zod"]);
    expect(source).not.toMatch(/\b(Buffer|process|require)\b[.(]/);
  });
});
