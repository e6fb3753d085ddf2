/**
 * API keys. A key is shown to its owner once, at creation; the service keeps only its SHA-256
 * (in KV, under `key:<hex>`), with the plan and a label. Keys carry 256 random bits, so a fast
 * hash is enough (no password stretching needed), and looking a key up by its hash means no
 * secret is ever compared byte by byte.
 */
import { z } from "zod";

export const KEY_PREFIX = "fa_";

export const keyRecordSchema = z.object({
  plan: z.string(),
  name: z.string(),
  created: z.string(),
});
export type KeyRecord = z.infer<typeof keyRecordSchema>;

/** Who is calling: a key's owner, or an anonymous client identified by its IP. */
export type Caller = { kind: "key"; id: string; plan: string; name: string } | { kind: "anonymous"; id: string; plan: "free" };

export function generateKey(): string {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  let b64 = "";
  for (const b of raw) b64 += String.fromCharCode(b);
  return KEY_PREFIX + btoa(b64).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function kvKeyFor(hashHex: string): string {
  return `key:${hashHex}`;
}

/** A well-formed key: the prefix and 43 base64url characters (256 bits). */
export function isWellFormedKey(key: string): boolean {
  return /^fa_[A-Za-z0-9_-]{43}$/.test(key);
}

/** The rate-limit partition of an anonymous client: its IPv4 address, or its IPv6 /64. */
export function clientPartition(ip: string | null): string {
  if (!ip) return "ip:unknown";
  if (!ip.includes(":")) return `ip:${ip}`;
  const groups = expandIpv6(ip);
  return groups ? `ip6:${groups.slice(0, 4).join(":")}::/64` : `ip:${ip}`;
}

function expandIpv6(ip: string): string[] | null {
  const [head, tail] = ip.split("::");
  const h = head ? head.split(":") : [];
  const t = tail !== undefined ? (tail ? tail.split(":") : []) : [];
  if (tail === undefined && h.length !== 8) return null;
  const missing = 8 - h.length - t.length;
  if (missing < 0) return null;
  return [...h, ...Array(missing).fill("0"), ...t].map((g) => g.toLowerCase().padStart(4, "0"));
}
