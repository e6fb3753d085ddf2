/** The markdown section of bench/results/hardening.md for the fault scenarios, optionally beside a baseline run's. */
import type { ScenarioResult } from "./fault-scenarios";
import type { WindowSummary } from "./timeline";

const share = (s: WindowSummary, route: string) => (s.requests ? `${(((s.routes[route] ?? 0) / s.requests) * 100).toFixed(0)}%` : "–");
const other = (s: WindowSummary) => s.requests - (s.routes.gpu ?? 0) - (s.routes["edge-fallback"] ?? 0);
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "–");

export function faultReport(
  results: ScenarioResult[],
  baseline: { label: string; results: ScenarioResult[] } | undefined,
  o: { windowS: number; connections: number },
): string {
  const lines = [
    "## Faults under a continuous `standard` load",
    "",
    `\`standard\` requests from ${o.connections} closed-loop clients throughout each scenario; windows of ${o.windowS} s around the fault (the`,
    "first second of the load is left out). `gpu`: answered by the runner; `edge-fallback`: by the worker's",
    "small models because the runner was skipped or failed.",
    ...(baseline
      ? [
          `Beside each row, the same scenario on **${baseline.label}** (the code before issue 12), run the same way on the`,
          "same machine just before (`--faults-only`).",
        ]
      : []),
    "",
  ];
  for (const [i, r] of results.entries()) {
    const base = baseline?.results[i];
    lines.push(`### ${i + 1}. ${r.name}`, "");
    if (r.windows.length === 0) {
      lines.push(...r.notes.map((n) => `- ${n}`), "");
      continue;
    }
    const head = ["window", "requests", "gpu", "edge-fallback", "other", "p50 ms", "p99 ms"];
    if (base) head.push(`${baseline!.label}: gpu`, `${baseline!.label}: p99 ms`);
    lines.push(`| ${head.join(" | ")} |`, `|${head.map((_, j) => (j === 0 ? "---" : "---:")).join("|")}|`);
    for (const [j, w] of r.windows.entries()) {
      const s = w.summary;
      const cells = [w.name, String(s.requests), share(s, "gpu"), share(s, "edge-fallback"), String(other(s)), ms(s.p50), ms(s.p99)];
      if (base) {
        const b = base.windows[j]?.summary;
        cells.push(b ? share(b, "gpu") : "–", b ? ms(b.p99) : "–");
      }
      lines.push(`| ${cells.join(" | ")} |`);
    }
    lines.push("", ...r.notes.map((n) => `- ${n}`));
    if (base) lines.push(...base.notes.map((n) => `- ${baseline!.label}: ${n}`));
    lines.push("");
  }
  return lines.join("\n");
}
