/**
 * Bearer-secret check. Both sides are hashed first so timingSafeEqual always compares 32 bytes:
 * neither the secret's length nor its content leaks through timing.
 */
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

export function bearerMatcher(secret: string): (authorization: string | undefined) => boolean {
  const expected = digest(secret);
  return (authorization) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? "");
    // Hash even when the header is missing or malformed, so every refusal costs the same.
    const given = digest(match ? match[1] : "");
    return timingSafeEqual(given, expected) && match !== null;
  };
}
