/**
 * Reads a request body under a size limit. An over-limit body that is not much larger is read
 * to its end and discarded ("lingering"), so the client, which is usually still uploading, gets
 * a clean 413 instead of a broken pipe; a body past `lingerBytes` is abandoned and the
 * connection closed.
 */
export type BodyResult = { ok: true; body: Uint8Array } | { ok: false; drained: boolean };

export async function readBodyWithLimit(request: Request, maxBytes: number, lingerBytes: number): Promise<BodyResult> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > lingerBytes) return { ok: false, drained: false };
  if (!request.body) return { ok: true, body: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > lingerBytes) {
      await reader.cancel().catch(() => undefined);
      return { ok: false, drained: false };
    }
    if (size <= maxBytes) chunks.push(value);
  }
  if (size > maxBytes) return { ok: false, drained: true };
  if (chunks.length === 1) return { ok: true, body: chunks[0] };
  const body = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    body.set(c, offset);
    offset += c.byteLength;
  }
  return { ok: true, body };
}
