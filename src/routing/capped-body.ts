/**
 * Reads a response body up to a byte cap: the declared Content-Length is checked first, then the
 * stream is counted and abandoned as soon as it passes the cap, so a runner that is broken (or
 * not the runner) cannot make the worker buffer an unbounded answer in its 128 MB.
 */
import { concatBytes } from "../streams/concat-bytes";

export class BodyTooLarge extends Error {
  override name = "BodyTooLarge";
}

export async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = response.headers.get("Content-Length");
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLarge(`declared ${declared} bytes, more than ${maxBytes}`);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge(`more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return concatBytes(chunks, total);
}
