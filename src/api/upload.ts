/**
 * Getting image bytes out of a request without letting it cost more than its limit: the declared
 * Content-Length is checked first, then the stream is counted while it is read and abandoned as
 * soon as it passes the cap (a lying or absent Content-Length cannot get around it).
 */
import { ApiProblem } from "./problem";
import { concatBytes } from "../streams/concat-bytes";

export async function readBodyCapped(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = declaredLength(request);
  if (declared !== null && declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  // With an honest Content-Length the bytes land in one buffer of that size (no chunk list and
  // concatenated copy side by side); without one, or if it lied short, chunks are joined at the end.
  let out = declared !== null ? new Uint8Array(declared) : null;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    if (out && total + value.byteLength <= out.length) out.set(value, total);
    else {
      if (out) chunks.push(out.slice(0, total));
      out = null;
      chunks.push(value);
    }
    total += value.byteLength;
  }
  if (out) return total === out.length ? out : out.subarray(0, total);
  return concatBytes(chunks, total);
}

function declaredLength(request: Request): number | null {
  const declared = request.headers.get("Content-Length");
  return declared !== null && /^\d+$/.test(declared) ? Number(declared) : null;
}

function tooLarge(maxBytes: number): ApiProblem {
  return new ApiProblem("payload-too-large", `The image exceeds ${maxBytes} bytes.`);
}

function isMultipart(request: Request): boolean {
  return (request.headers.get("Content-Type") ?? "").toLowerCase().startsWith("multipart/form-data");
}

/**
 * The `image` file fields of a multipart body, parsed straight from the request stream through a
 * byte counter that errors past `maxBytes`: the body is never held as one more copy beside the
 * parsed parts, and parts stay Blobs until each is read.
 */
async function formImages(request: Request, maxBytes: number): Promise<File[]> {
  const declared = declaredLength(request);
  if (declared !== null && declared > maxBytes) throw tooLarge(maxBytes);
  let total = 0;
  let exceeded = false;
  const counted = request.body?.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        total += chunk.byteLength;
        if (total > maxBytes) {
          exceeded = true;
          controller.error(tooLarge(maxBytes));
        } else controller.enqueue(chunk);
      },
    }),
  );
  let form: FormData;
  try {
    form = await new Response(counted ?? null, { headers: { "Content-Type": request.headers.get("Content-Type")! } }).formData();
  } catch {
    if (exceeded) throw tooLarge(maxBytes);
    throw new ApiProblem("bad-request", "The multipart body cannot be parsed.");
  }
  return form.getAll("image").filter((v): v is File => typeof v !== "string");
}

/** One image: the raw body, or the `image` field of a multipart form. */
export async function readSingleImage(request: Request, maxBytes: number): Promise<Uint8Array> {
  if (!isMultipart(request)) {
    const body = await readBodyCapped(request, maxBytes);
    if (body.byteLength === 0)
      throw new ApiProblem("bad-request", "The request has no body: send the image bytes or a multipart `image` field.");
    return body;
  }
  // A multipart envelope adds a few hundred bytes; allow them without raising the image cap.
  const files = await formImages(request, maxBytes + 16 * 1024);
  if (files.length !== 1) {
    throw new ApiProblem("bad-request", "The multipart form needs exactly one `image` file field (use /v1/analyze/batch for several).", {
      errors: [{ name: "image", reason: files.length === 0 ? "missing" : "more than one" }],
    });
  }
  if (files[0].size > maxBytes) throw tooLarge(maxBytes);
  return new Uint8Array(await files[0].arrayBuffer());
}

/**
 * Several `image` fields of a multipart form, each still a Blob: the caller reads and analyses one
 * at a time, so only one image's bytes are a JS buffer at once. An image over its own cap becomes
 * that item's problem.
 */
export async function readBatchImages(
  request: Request,
  maxTotalBytes: number,
  maxImageBytes: number,
  maxImages: number,
): Promise<(Blob | ApiProblem)[]> {
  if (!isMultipart(request)) {
    throw new ApiProblem("bad-request", "A batch is a multipart/form-data body with one `image` field per image.", {
      errors: [{ name: "Content-Type", reason: "expected multipart/form-data" }],
    });
  }
  const files = await formImages(request, maxTotalBytes);
  if (files.length === 0)
    throw new ApiProblem("bad-request", "The batch has no `image` file fields.", { errors: [{ name: "image", reason: "missing" }] });
  if (files.length > maxImages) {
    throw new ApiProblem("bad-request", `A batch holds at most ${maxImages} images on this plan.`, {
      errors: [{ name: "image", reason: `more than ${maxImages}` }],
    });
  }
  return files.map((f) => (f.size > maxImageBytes ? tooLarge(maxImageBytes) : f));
}
