/** SHA-256 as lowercase hex (Web Crypto: the worker, Node and browsers alike). */
export async function sha256Hex(data: string | ArrayBuffer | ArrayBufferView): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes as ArrayBuffer);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
