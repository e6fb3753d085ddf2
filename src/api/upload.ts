/**
 * Getting image bytes out of a request without letting it cost more than its limit: the declared
 * Content-Length is checked first, then the stream is counted while it is read and abandoned as
 * soon as it passes the cap (a lying or absent Content-Length cannot get around it).
 */
import { ApiProblem } from "./problem";

export async function readBodyCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number): ApiProblem {
  return new ApiProblem("payload-too-large", `The image exceeds ${maxBytes} bytes.`);
}

function isMultipart(request: Request): boolean {
  return (request.headers.get("Content-Type") ?? "").toLowerCase().startsWith("multipart/form-data");
}

async function formImages(request: Request, body: Uint8Array): Promise<File[]> {
  let form: FormData;
  try {
    form = await new Response(body as Uint8Array<ArrayBuffer>, { headers: { "Content-Type": request.headers.get("Content-Type")! } }).formData();
  } catch {
    throw new ApiProblem("bad-request", "The multipart body cannot be parsed.");
  }
  return form.getAll("image").filter((v): v is File => typeof v !== "string");
}

/** One image: the raw body, or the `image` field of a multipart form. */
export async function readSingleImage(request: Request, maxBytes: number): Promise<Uint8Array> {
  // A multipart envelope adds a few hundred bytes; allow them without raising the image cap.
  const body = await readBodyCapped(request, isMultipart(request) ? maxBytes + 16 * 1024 : maxBytes);
  if (!isMultipart(request)) {
    if (body.byteLength === 0) throw new ApiProblem("bad-request", "The request has no body: send the image bytes or a multipart `image` field.");
    return body;
  }
  const files = await formImages(request, body);
  if (files.length !== 1) {
    throw new ApiProblem("bad-request", "The multipart form needs exactly one `image` file field (use /v1/analyze/batch for several).", {
      errors: [{ name: "image", reason: files.length === 0 ? "missing" : "more than one" }],
    });
  }
  if (files[0].size > maxBytes) throw tooLarge(maxBytes);
  return new Uint8Array(await files[0].arrayBuffer());
}

/** Several `image` fields of a multipart form; an image over its own cap becomes that item's problem. */
export async function readBatchImages(
  request: Request,
  maxTotalBytes: number,
  maxImageBytes: number,
  maxImages: number,
): Promise<(Uint8Array | ApiProblem)[]> {
  if (!isMultipart(request)) {
    throw new ApiProblem("bad-request", "A batch is a multipart/form-data body with one `image` field per image.", {
      errors: [{ name: "Content-Type", reason: "expected multipart/form-data" }],
    });
  }
  const body = await readBodyCapped(request, maxTotalBytes);
  const files = await formImages(request, body);
  if (files.length === 0) throw new ApiProblem("bad-request", "The batch has no `image` file fields.", { errors: [{ name: "image", reason: "missing" }] });
  if (files.length > maxImages) {
    throw new ApiProblem("bad-request", `A batch holds at most ${maxImages} images on this plan.`, { errors: [{ name: "image", reason: `more than ${maxImages}` }] });
  }
  return Promise.all(
    files.map(async (f) => (f.size > maxImageBytes ? tooLarge(maxImageBytes) : new Uint8Array(await f.arrayBuffer()))),
  );
}
