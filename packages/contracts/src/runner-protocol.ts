/**
 * Open Inference Protocol (KServe v2, as served by NVIDIA Triton) over HTTP: the JSON messages and
 * the binary tensor extension, for both ends of the wire. Runtime-agnostic (only Web-standard
 * APIs: TextEncoder, typed arrays, DataView), so the GPU runner (Node) and the edge worker's
 * `RunnerClient` (workerd) import this very module and cannot drift apart.
 *
 * Wire format (https://github.com/kserve/open-inference-protocol, Triton `binary_tensor_data`):
 * - A message is a JSON header, optionally followed by raw little-endian tensor bytes. When bytes
 *   follow, the `Inference-Header-Content-Length` HTTP header gives the JSON header's length.
 * - A binary input carries `parameters.binary_data_size` instead of `data`; binary payloads are
 *   concatenated in the order of the tensors in the header.
 * - A client asks for a binary output with `outputs[i].parameters.binary_data = true` (or for all
 *   outputs with the request parameter `binary_data_output = true`); the response tensor then
 *   carries `parameters.binary_data_size` and its bytes follow the response's JSON header.
 *
 * For the edge worker, the two calls it needs:
 *
 * ```ts
 * import { encodeInferRequest, decodeInferResponse } from "@faceage/contracts/runner-protocol";
 * const req = encodeInferRequest("ThinAgeNet", crops, [n, 64, 64, 3], { binary: true, outputs: ["probs", "value"] });
 * const res = await fetch(runnerUrl + req.path, {
 *   method: "POST", body: req.body,
 *   headers: { ...req.headers, authorization: `Bearer ${env.RUNNER_SECRET}` },
 * });
 * if (!res.ok) throw new Error(`runner ${res.status}`); // body is application/problem+json
 * const out = decodeInferResponse(new Uint8Array(await res.arrayBuffer()), res.headers);
 * out.outputs.probs.data; // Float32Array, n * K values, row-major; out.outputs.probs.shape = [n, K]
 * ```
 *
 * Everything that is malformed throws {@link ProtocolError} (a 400 on the server side).
 */
import { z } from "zod";

export const INFERENCE_HEADER_CONTENT_LENGTH = "Inference-Header-Content-Length";
export const JSON_CONTENT_TYPE = "application/json";
export const BINARY_CONTENT_TYPE = "application/octet-stream";
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export type Datatype = "BOOL" | "UINT8" | "INT8" | "UINT16" | "INT16" | "UINT32" | "INT32" | "INT64" | "UINT64" | "FP32" | "FP64";

export type TensorData =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** Row-major values; BOOL tensors hold 0/1 bytes. */
  data: TensorData;
}

export interface RequestedOutput {
  name: string;
  /** Send this output as raw bytes after the JSON header instead of a JSON array. */
  binary: boolean;
}

export interface InferRequest {
  id?: string;
  inputs: Tensor[];
  /** Absent: every output of the model, in JSON unless `binaryOutputs` is set. */
  outputs?: RequestedOutput[];
  /** The request-level `binary_data_output` parameter: the default for outputs not listed with their own flag. */
  binaryOutputs?: boolean;
}

export interface InferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  outputs: Tensor[];
}

/** A body ready to send, with the headers that describe it (content type and, when binary, the JSON header length). */
export interface EncodedMessage {
  body: Uint8Array<ArrayBuffer>;
  headers: Record<string, string>;
}

/** Anything that can look up a header case-insensitively: a `Headers` or a plain record. */
export type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

interface DatatypeInfo {
  bytes: number;
  make: (buffer: ArrayBuffer, length: number) => TensorData;
  /** Accepts a JSON scalar for this type; returns undefined when it does not fit. */
  fromJson: (v: unknown) => number | bigint | undefined;
}

const isInt = (lo: number, hi: number) => (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && v >= lo && v <= hi ? v : undefined;
const isBigInt = (lo: bigint, hi: bigint) => (v: unknown) => {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) return undefined;
  const b = BigInt(v);
  return b >= lo && b <= hi ? b : undefined;
};
const isFloat = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

const DATATYPES: Record<Datatype, DatatypeInfo> = {
  BOOL: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n), fromJson: (v) => (typeof v === "boolean" ? Number(v) : isInt(0, 1)(v)) },
  UINT8: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n), fromJson: isInt(0, 255) },
  INT8: { bytes: 1, make: (b, n) => new Int8Array(b, 0, n), fromJson: isInt(-128, 127) },
  UINT16: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n), fromJson: isInt(0, 65535) },
  INT16: { bytes: 2, make: (b, n) => new Int16Array(b, 0, n), fromJson: isInt(-32768, 32767) },
  UINT32: { bytes: 4, make: (b, n) => new Uint32Array(b, 0, n), fromJson: isInt(0, 2 ** 32 - 1) },
  INT32: { bytes: 4, make: (b, n) => new Int32Array(b, 0, n), fromJson: isInt(-(2 ** 31), 2 ** 31 - 1) },
  INT64: { bytes: 8, make: (b, n) => new BigInt64Array(b, 0, n), fromJson: isBigInt(-(2n ** 63n), 2n ** 63n - 1n) },
  UINT64: { bytes: 8, make: (b, n) => new BigUint64Array(b, 0, n), fromJson: isBigInt(0n, 2n ** 64n - 1n) },
  FP32: { bytes: 4, make: (b, n) => new Float32Array(b, 0, n), fromJson: isFloat },
  FP64: { bytes: 8, make: (b, n) => new Float64Array(b, 0, n), fromJson: isFloat },
};

export const DATATYPE_NAMES = Object.keys(DATATYPES) as Datatype[];

/** The protocol's datatype for a typed array (BOOL is never inferred: Uint8Array maps to UINT8). */
export function datatypeOf(data: TensorData): Datatype {
  if (data instanceof Uint8Array) return "UINT8";
  if (data instanceof Int8Array) return "INT8";
  if (data instanceof Uint16Array) return "UINT16";
  if (data instanceof Int16Array) return "INT16";
  if (data instanceof Uint32Array) return "UINT32";
  if (data instanceof Int32Array) return "INT32";
  if (data instanceof BigInt64Array) return "INT64";
  if (data instanceof BigUint64Array) return "UINT64";
  if (data instanceof Float32Array) return "FP32";
  return "FP64";
}

// The wire is little-endian; every host this runs on (x86-64, arm64, workerd) is too. A
// big-endian host would need byte swapping, so refuse loudly instead of decoding garbage.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function assertLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error("runner-protocol: big-endian hosts are not supported");
}

// ---------------------------------------------------------------------------------------------
// JSON header schemas (what arrives is untrusted: validated before use)

const shapeSchema = z.array(z.number().int().nonnegative()).max(8);
const parametersSchema = z.record(z.string(), z.unknown()).optional();

const wireTensorSchema = z.object({
  name: z.string().min(1).max(256),
  datatype: z.string(),
  shape: shapeSchema,
  parameters: parametersSchema,
  data: z.unknown().optional(),
});

const wireRequestSchema = z.object({
  id: z.string().max(256).optional(),
  parameters: parametersSchema,
  inputs: z.array(wireTensorSchema).min(1).max(64),
  outputs: z
    .array(z.object({ name: z.string().min(1).max(256), parameters: parametersSchema }))
    .max(64)
    .optional(),
});

const wireResponseSchema = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: parametersSchema,
  outputs: z.array(wireTensorSchema),
});

type WireTensor = z.infer<typeof wireTensorSchema>;

// ---------------------------------------------------------------------------------------------
// Helpers

function headerValue(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (k.toLowerCase() === lower) return Array.isArray(v) ? v[0] : v;
  }
  return undefined;
}

function elementCount(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

function bytesOf(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Copies `length` elements of `datatype` out of `bytes` at `offset` into a fresh, aligned typed array. */
function tensorFromBytes(datatype: Datatype, bytes: Uint8Array, offset: number, length: number): TensorData {
  assertLittleEndianHost();
  const info = DATATYPES[datatype];
  const copy = bytes.slice(offset, offset + length * info.bytes);
  return info.make(copy.buffer, length);
}

function tensorFromJson(t: WireTensor, datatype: Datatype, count: number): TensorData {
  let values = t.data;
  if (!Array.isArray(values)) throw new ProtocolError(`tensor '${t.name}': data must be an array`);
  // Triton accepts row-major nested arrays as well as flat ones; both are flattened here.
  if (values.some(Array.isArray)) values = (values as unknown[]).flat(t.shape.length);
  const flat = values as unknown[];
  if (flat.length !== count) {
    throw new ProtocolError(`tensor '${t.name}': shape [${t.shape.join(",")}] needs ${count} values, got ${flat.length}`);
  }
  const info = DATATYPES[datatype];
  const out = info.make(new ArrayBuffer(count * info.bytes), count);
  for (let i = 0; i < count; i++) {
    const v = info.fromJson(flat[i]);
    if (v === undefined) throw new ProtocolError(`tensor '${t.name}': value at ${i} is not a valid ${datatype}`);
    (out as unknown as (number | bigint)[])[i] = v;
  }
  return out;
}

function tensorToJson(t: Tensor): unknown[] {
  if (t.datatype === "BOOL") return Array.from(t.data as Uint8Array, (v) => v !== 0);
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) {
    return Array.from(t.data, (v) => {
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new ProtocolError(`tensor '${t.name}': 64-bit value out of JSON's safe range; ask for binary output`);
      }
      return Number(v);
    });
  }
  return Array.from(t.data as ArrayLike<number>);
}

function checkTensor(t: Tensor): void {
  if (!(t.datatype in DATATYPES)) throw new ProtocolError(`tensor '${t.name}': unsupported datatype ${t.datatype}`);
  if (elementCount(t.shape) !== t.data.length) {
    throw new ProtocolError(`tensor '${t.name}': shape [${t.shape.join(",")}] does not match ${t.data.length} values`);
  }
}

/** Splits a body into its JSON header and the binary bytes after it. */
function splitBody(body: Uint8Array, headers: HeaderSource): { json: unknown; binary: Uint8Array } {
  const raw = headerValue(headers, INFERENCE_HEADER_CONTENT_LENGTH);
  let headerLength = body.byteLength;
  if (raw !== undefined) {
    if (!/^\d{1,12}$/.test(raw.trim())) throw new ProtocolError(`${INFERENCE_HEADER_CONTENT_LENGTH} must be a byte count`);
    headerLength = Number(raw.trim());
    if (headerLength > body.byteLength) {
      throw new ProtocolError(`${INFERENCE_HEADER_CONTENT_LENGTH} (${headerLength}) exceeds the body (${body.byteLength} bytes)`);
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body.subarray(0, headerLength)));
  } catch {
    throw new ProtocolError("the inference header is not valid JSON");
  }
  return { json, binary: body.subarray(headerLength) };
}

/** Reads the tensors of a decoded header, taking binary payloads from `binary` in order. */
function readTensors(wire: WireTensor[], binary: Uint8Array): Tensor[] {
  let offset = 0;
  const tensors = wire.map((t): Tensor => {
    if (!(DATATYPES as Record<string, unknown>)[t.datatype]) {
      throw new ProtocolError(`tensor '${t.name}': unsupported datatype '${t.datatype}' (supported: ${DATATYPE_NAMES.join(", ")})`);
    }
    const datatype = t.datatype as Datatype;
    const count = elementCount(t.shape);
    const binarySize = t.parameters?.binary_data_size;
    if (binarySize !== undefined) {
      if (typeof binarySize !== "number" || !Number.isSafeInteger(binarySize) || binarySize < 0) {
        throw new ProtocolError(`tensor '${t.name}': binary_data_size must be a byte count`);
      }
      if (t.data !== undefined) throw new ProtocolError(`tensor '${t.name}': has both data and binary_data_size`);
      const expected = count * DATATYPES[datatype].bytes;
      if (binarySize !== expected) {
        throw new ProtocolError(
          `tensor '${t.name}': shape [${t.shape.join(",")}] of ${datatype} needs ${expected} bytes, binary_data_size is ${binarySize}`,
        );
      }
      if (offset + binarySize > binary.byteLength) {
        throw new ProtocolError(`tensor '${t.name}': binary data is truncated (${binary.byteLength - offset} of ${binarySize} bytes)`);
      }
      const data = tensorFromBytes(datatype, binary, offset, count);
      offset += binarySize;
      return { name: t.name, datatype, shape: t.shape, data };
    }
    if (t.data === undefined) throw new ProtocolError(`tensor '${t.name}': has neither data nor binary_data_size`);
    return { name: t.name, datatype, shape: t.shape, data: tensorFromJson(t, datatype, count) };
  });
  if (offset !== binary.byteLength) {
    throw new ProtocolError(`${binary.byteLength - offset} bytes of binary data are not claimed by any tensor`);
  }
  return tensors;
}

/** Serialises a JSON header plus binary tensors into one body, with its headers. */
function assemble(header: unknown, binaries: Uint8Array[]): EncodedMessage {
  // encode() always returns a fresh ArrayBuffer; the Workers types only say ArrayBufferLike.
  const json = new TextEncoder().encode(JSON.stringify(header)) as Uint8Array<ArrayBuffer>;
  if (binaries.length === 0) {
    return { body: json, headers: { "content-type": JSON_CONTENT_TYPE } };
  }
  let total = json.byteLength;
  for (const b of binaries) total += b.byteLength;
  const body = new Uint8Array(total);
  body.set(json, 0);
  let offset = json.byteLength;
  for (const b of binaries) {
    body.set(b, offset);
    offset += b.byteLength;
  }
  return {
    body,
    headers: {
      "content-type": BINARY_CONTENT_TYPE,
      [INFERENCE_HEADER_CONTENT_LENGTH.toLowerCase()]: String(json.byteLength),
    },
  };
}

function encodeTensors(tensors: Tensor[], isBinary: (t: Tensor) => boolean): { wire: unknown[]; binaries: Uint8Array[] } {
  const binaries: Uint8Array[] = [];
  const wire = tensors.map((t) => {
    checkTensor(t);
    if (isBinary(t)) {
      assertLittleEndianHost();
      const bytes = bytesOf(t.data);
      binaries.push(bytes);
      return { name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: bytes.byteLength } };
    }
    return { name: t.name, datatype: t.datatype, shape: t.shape, data: tensorToJson(t) };
  });
  return { wire, binaries };
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Encodes an inference request; `binaryInputs` sends input tensors as raw bytes (the extension). */
export function encodeRequest(request: InferRequest, options: { binaryInputs?: boolean } = {}): EncodedMessage {
  const { wire, binaries } = encodeTensors(request.inputs, () => options.binaryInputs ?? false);
  const header: Record<string, unknown> = { inputs: wire };
  if (request.id !== undefined) header.id = request.id;
  if (request.binaryOutputs !== undefined) header.parameters = { binary_data_output: request.binaryOutputs };
  if (request.outputs) {
    header.outputs = request.outputs.map((o) => ({ name: o.name, parameters: { binary_data: o.binary } }));
  }
  return assemble(header, binaries);
}

/** Decodes an inference request body (JSON, or JSON header + binary tensors). Throws {@link ProtocolError}. */
export function decodeRequest(body: Uint8Array, headers: HeaderSource): InferRequest {
  const { json, binary } = splitBody(body, headers);
  const parsed = wireRequestSchema.safeParse(json);
  if (!parsed.success) throw new ProtocolError(`invalid inference request: ${describeIssues(parsed.error)}`);
  const wire = parsed.data;
  const defaultBinary = wire.parameters?.binary_data_output;
  if (defaultBinary !== undefined && typeof defaultBinary !== "boolean") {
    throw new ProtocolError("parameters.binary_data_output must be a boolean");
  }
  const outputs = wire.outputs?.map((o): RequestedOutput => {
    const flag = o.parameters?.binary_data;
    if (flag !== undefined && typeof flag !== "boolean") {
      throw new ProtocolError(`output '${o.name}': parameters.binary_data must be a boolean`);
    }
    return { name: o.name, binary: flag ?? defaultBinary ?? false };
  });
  const names = new Set<string>();
  for (const t of wire.inputs) {
    if (names.has(t.name)) throw new ProtocolError(`input '${t.name}' appears twice`);
    names.add(t.name);
  }
  return {
    id: wire.id,
    inputs: readTensors(wire.inputs, binary),
    outputs,
    binaryOutputs: defaultBinary,
  };
}

// ---------------------------------------------------------------------------------------------
// Responses

/** Encodes an inference response; outputs named in `binaryOutputs` go as raw bytes after the JSON header. */
export function encodeResponse(response: InferResponse, binaryOutputs: ReadonlySet<string> = new Set()): EncodedMessage {
  const { wire, binaries } = encodeTensors(response.outputs, (t) => binaryOutputs.has(t.name));
  const header: Record<string, unknown> = { model_name: response.model_name };
  if (response.model_version !== undefined) header.model_version = response.model_version;
  if (response.id !== undefined) header.id = response.id;
  header.outputs = wire;
  return assemble(header, binaries);
}

/** Decodes an inference response body. Throws {@link ProtocolError}, also for an error body. */
export function decodeResponse(body: Uint8Array, headers: HeaderSource): InferResponse {
  const { json, binary } = splitBody(body, headers);
  if (json && typeof json === "object" && !("outputs" in json)) {
    const j = json as { error?: unknown; detail?: unknown; title?: unknown };
    const message = [j.error, j.detail, j.title].find((v) => typeof v === "string");
    if (message) throw new ProtocolError(`runner error: ${message as string}`);
  }
  const parsed = wireResponseSchema.safeParse(json);
  if (!parsed.success) throw new ProtocolError(`invalid inference response: ${describeIssues(parsed.error)}`);
  return {
    model_name: parsed.data.model_name,
    model_version: parsed.data.model_version,
    id: parsed.data.id,
    outputs: readTensors(parsed.data.outputs, binary),
  };
}

// ---------------------------------------------------------------------------------------------
// The RunnerClient's view: uint8 face crops in, named float tensors out

export interface EncodedInferRequest extends EncodedMessage {
  method: "POST";
  /** Path relative to the runner's base URL, e.g. `/v2/models/ThinAgeNet/infer`. */
  path: string;
}

export interface InferRequestOptions {
  /** Outputs to return (default: all of the model's outputs). */
  outputs?: string[];
  /** Send crops and ask for outputs as raw bytes (the binary tensor extension). Default true. */
  binary?: boolean;
  /** Input tensor name (default "image", as in the model cards). */
  inputName?: string;
  /** Echoed back in the response's `id`. */
  id?: string;
}

/**
 * Encodes N uint8 face crops (row-major, `shape` e.g. [N, 64, 64, 3] for NHWC) as one infer
 * request for `modelName`. Throws when `crops.length` does not match `shape`.
 */
export function encodeInferRequest(
  modelName: string,
  crops: Uint8Array,
  shape: number[],
  options: InferRequestOptions = {},
): EncodedInferRequest {
  const binary = options.binary ?? true;
  const message = encodeRequest(
    {
      id: options.id,
      inputs: [{ name: options.inputName ?? "image", datatype: "UINT8", shape, data: crops }],
      outputs: options.outputs?.map((name) => ({ name, binary })),
      binaryOutputs: options.outputs ? undefined : binary,
    },
    { binaryInputs: binary },
  );
  return { ...message, method: "POST", path: `/v2/models/${encodeURIComponent(modelName)}/infer` };
}

export interface DecodedInferResponse {
  modelName: string;
  modelVersion?: string;
  id?: string;
  outputs: Record<string, { shape: number[]; datatype: Datatype; data: TensorData }>;
}

/** Decodes an infer response (JSON or binary) into outputs by name. Throws {@link ProtocolError}. */
export function decodeInferResponse(bytes: Uint8Array, headers: HeaderSource): DecodedInferResponse {
  const response = decodeResponse(bytes, headers);
  const outputs: DecodedInferResponse["outputs"] = {};
  for (const t of response.outputs) outputs[t.name] = { shape: t.shape, datatype: t.datatype, data: t.data };
  return { modelName: response.model_name, modelVersion: response.model_version, id: response.id, outputs };
}
