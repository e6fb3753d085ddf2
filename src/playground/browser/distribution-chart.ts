import type { Face } from "../../client";
import { fmt, svg } from "./dom";

type AgeEstimate = NonNullable<Face["age"]>;

/** The age distribution as bars, the 90% interval shaded and the mean as a line. */
export function distributionChart(age: AgeEstimate, faceIndex: number): SVGSVGElement {
  const { labels, probs } = age.distribution ?? { labels: [], probs: [] };
  const W = 300;
  const H = 64;
  const pad = 12;
  const lo = labels[0];
  const hi = labels[labels.length - 1];
  const x = (v: number) => ((v - lo) / (hi - lo || 1)) * W;
  const top = Math.max(...probs) || 1;
  const barWidth = W / labels.length;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H + pad}`, class: "chart", role: "img" });
  const [low90, high90] = age.interval90;
  const label = `Age distribution for face ${faceIndex + 1}: mean ${fmt(age.value)}, 90% between ${fmt(low90, 0)} and ${fmt(high90, 0)}`;
  chart.setAttribute("aria-label", label);
  const title = svg("title");
  title.textContent = label;
  chart.append(title);
  chart.append(svg("rect", { class: "band", x: x(low90), y: 0, width: Math.max(1, x(high90) - x(low90)), height: H }));
  let d = "";
  labels.forEach((l, k) => {
    const h = (probs[k] / top) * (H - 2);
    if (h > 0.05) d += `M${fmt(x(l) - barWidth / 2, 2)} ${H}h${fmt(barWidth * 0.9, 2)}v-${fmt(h, 2)}h-${fmt(barWidth * 0.9, 2)}z`;
  });
  chart.append(svg("path", { class: "bar", d }));
  chart.append(svg("line", { class: "mean", x1: x(age.value), x2: x(age.value), y1: 0, y2: H }));
  const anchors = ["start", "middle", "end"];
  [lo, Math.round((lo + hi) / 2), hi].forEach((tick, k) => {
    const t = svg("text", { class: "axis", x: x(tick), y: H + pad - 1, "text-anchor": anchors[k] });
    t.textContent = String(tick);
    chart.append(t);
  });
  return chart;
}
