/** The IETF RateLimit header ('"minute";r=8;t=46, "day";r=498;t=9826') in words. */
export function remainingQuota(header: string | null): string {
  if (!header) return "n/a";
  const parts = [...header.matchAll(/"([^"]+)";r=(\d+)(?:;t=(\d+))?/g)].map((m) => `${m[2]} left this ${m[1]}`);
  return parts.join(", ") || header;
}
