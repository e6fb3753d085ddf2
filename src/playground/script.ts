/**
 * The playground's browser script, served as /playground.js. Plain modern JavaScript (no build
 * step, no framework): it calls the same public `/v1/analyze` a third-party app would, and writes
 * server data into the page only as text or attributes, never as HTML.
 *
 * Kept as a string so the worker serves it with no bundler rules; it must not contain backticks
 * or dollar-brace sequences (they would end or interpolate this template).
 */
export const playgroundScript = String.raw`
const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const form = $("analyze-form");
const fileInput = $("photo");
const drop = $("drop");
const submit = $("analyze");
const statusEl = $("status");
const errorEl = $("error");
const result = $("result");
const photoView = $("photo-view");
const overlay = $("overlay");
const facesEl = $("faces");
const showMaps = $("show-maps");

let image = null;      // the Blob being analysed
let imageUrl = null;   // its object URL (revoked on replacement)
let inFlight = null;   // AbortController of the running request
let last = null;       // the last analysis, for re-drawing the overlay

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  return node;
}
const fmt = (x, d) => Number(x).toFixed(d === undefined ? 1 : d);

function setStatus(text) { statusEl.textContent = text; }
function showError(title, detail) {
  errorEl.replaceChildren(el("strong", { text: title }), document.createTextNode(detail ? ": " + detail : ""));
  errorEl.hidden = false;
}

function useImage(blob) {
  if (!blob || !/^image\//.test(blob.type || "image/")) {
    showError("Not an image", "choose a JPEG, PNG or WebP photo");
    return;
  }
  image = blob;
  if (imageUrl) URL.revokeObjectURL(imageUrl);
  imageUrl = URL.createObjectURL(blob);
  submit.disabled = false;
  analyze();
}

fileInput.addEventListener("change", () => { if (fileInput.files && fileInput.files[0]) useImage(fileInput.files[0]); });
for (const type of ["dragenter", "dragover"]) {
  drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("dragging"); });
}
for (const type of ["dragleave", "drop"]) {
  drop.addEventListener(type, () => drop.classList.remove("dragging"));
}
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  const file = e.dataTransfer && e.dataTransfer.files[0];
  if (file) useImage(file);
});
document.addEventListener("paste", (e) => {
  const item = [...(e.clipboardData ? e.clipboardData.items : [])].find((i) => i.type.startsWith("image/"));
  if (item) useImage(item.getAsFile());
});
form.addEventListener("submit", (e) => { e.preventDefault(); analyze(); });
for (const id of ["tier", "attr-age", "attr-beauty", "explain"]) {
  $(id).addEventListener("change", () => { if (image) analyze(); });
}
showMaps.addEventListener("change", () => { if (last) drawOverlay(last); });

// Camera: only where the browser offers one (secure contexts: https or localhost).
const cam = { start: $("camera-start"), shoot: $("camera-shoot"), stop: $("camera-stop"), video: $("camera-video"), stream: null };
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) cam.start.hidden = false;
function closeCamera() {
  if (cam.stream) for (const t of cam.stream.getTracks()) t.stop();
  cam.stream = null;
  cam.video.hidden = cam.shoot.hidden = cam.stop.hidden = true;
  cam.start.hidden = false;
}
cam.start.addEventListener("click", async () => {
  try {
    cam.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" } });
  } catch (err) {
    showError("Camera unavailable", err && err.message ? err.message : String(err));
    return;
  }
  cam.video.srcObject = cam.stream;
  await cam.video.play();
  cam.video.hidden = cam.shoot.hidden = cam.stop.hidden = false;
  cam.start.hidden = true;
  cam.shoot.focus();
});
cam.stop.addEventListener("click", closeCamera);
cam.shoot.addEventListener("click", () => {
  const c = document.createElement("canvas");
  c.width = cam.video.videoWidth;
  c.height = cam.video.videoHeight;
  c.getContext("2d").drawImage(cam.video, 0, 0);
  closeCamera();
  c.toBlob((blob) => useImage(blob), "image/jpeg", 0.92);
});

function query() {
  const attributes = [];
  if ($("attr-age").checked) attributes.push("age");
  if ($("attr-beauty").checked) attributes.push("beauty");
  const q = new URLSearchParams({
    tier: $("tier").value,
    max_faces: $("max-faces").value || "5",
    distribution: "true",
    explain: String($("explain").checked),
  });
  if (attributes.length) q.set("attributes", attributes.join(","));
  return q;
}

async function analyze() {
  if (!image) return;
  if (!$("attr-age").checked && !$("attr-beauty").checked) {
    showError("Nothing to estimate", "tick Age, Attractiveness or both");
    return;
  }
  if (inFlight) inFlight.abort();
  const controller = new AbortController();
  inFlight = controller;
  errorEl.hidden = true;
  submit.disabled = true;
  form.setAttribute("aria-busy", "true");
  setStatus("Analysing…");
  const headers = { "content-type": image.type || "application/octet-stream" };
  const key = $("api-key").value.trim();
  if (key) headers.authorization = "Bearer " + key;
  const started = performance.now();
  try {
    const res = await fetch("/v1/analyze?" + query(), { method: "POST", body: image, headers, signal: controller.signal });
    const roundTrip = performance.now() - started;
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const retry = res.headers.get("retry-after");
      const title = (body && body.title) || "HTTP " + res.status;
      let detail = (body && body.detail) || "";
      if (body && body.errors) detail += " " + body.errors.map((e) => e.name + ": " + e.reason).join("; ");
      if (retry) detail += " (retry in " + retry + " s)";
      showError(res.status + " " + title, detail.trim());
      setStatus("The request failed.");
      return;
    }
    await render(body, roundTrip, res.headers.get("ratelimit"));
  } catch (err) {
    if (err && err.name === "AbortError") return;
    showError("Network error", err && err.message ? err.message : String(err));
    setStatus("The request failed.");
  } finally {
    if (inFlight === controller) {
      inFlight = null;
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }
}

function loaded(img, src) {
  return new Promise((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error("the browser cannot display this image"));
    img.src = src;
  });
}

async function render(a, roundTrip, rateLimit) {
  last = a;
  await loaded(photoView, imageUrl);
  const route = $("meta-route");
  route.replaceChildren(el("span", { class: "route route-" + a.route, text: a.route }));
  $("meta-cached").textContent = a.cached ? "yes" : "no";
  $("meta-server").textContent = fmt(a.timing_ms, 0) + " ms";
  $("meta-roundtrip").textContent = fmt(roundTrip, 0) + " ms";
  const models = [a.models.age, a.models.beauty].filter(Boolean).map((m) => m.name + "@" + m.version.slice(0, 8));
  $("meta-models").textContent = models.join(", ") || a.models.detector.name;
  $("meta-ratelimit").textContent = remaining(rateLimit);
  drawOverlay(a);
  $("raw-json").textContent = JSON.stringify(a, null, 2);
  facesEl.replaceChildren(...a.faces.map((f, i) => faceCard(f, i)));
  result.hidden = false;
  const n = a.faces.length;
  setStatus(n === 0 ? "No face found in this photo." : n + (n === 1 ? " face" : " faces") + " found (route " + a.route + ", " + fmt(a.timing_ms, 0) + " ms on the server).");
}

// The IETF RateLimit header ('"minute";r=8;t=46, "day";r=498;t=9826') in words.
function remaining(header) {
  if (!header) return "n/a";
  const parts = [...header.matchAll(/"([^"]+)";r=(\d+)(?:;t=(\d+))?/g)].map((m) => m[2] + " left this " + m[1]);
  return parts.join(", ") || header;
}

function drawOverlay(a) {
  const { width, height } = a.image;
  overlay.setAttribute("viewBox", "0 0 " + width + " " + height);
  overlay.setAttribute("aria-label", a.faces.length + " face boxes");
  const scale = Math.max(1, width / 600);
  const nodes = [];
  a.faces.forEach((f, i) => {
    const b = f.box;
    const map = f.scoremap && (f.scoremap.age || f.scoremap.beauty);
    if (map && showMaps.checked) {
      nodes.push(svg("image", { href: map, x: b.x, y: b.y, width: b.width, height: b.height, class: "map", preserveAspectRatio: "none" }));
    }
    nodes.push(svg("rect", { x: b.x, y: b.y, width: b.width, height: b.height, class: "box", "data-face": i }));
    const label = String(i + 1) + (f.age ? " · " + fmt(f.age.value, 0) + " y" : "");
    const tagH = 20 * scale;
    const tagY = Math.max(0, b.y - tagH);
    nodes.push(svg("rect", { x: b.x, y: tagY, width: (label.length * 8 + 10) * scale, height: tagH, class: "tag" }));
    const text = svg("text", { x: b.x + 5 * scale, y: tagY + 15 * scale, class: "tag-text", "font-size": 14 * scale });
    text.textContent = label;
    nodes.push(text);
  });
  overlay.replaceChildren(...nodes);
}

function highlight(i, on) {
  const box = overlay.querySelector('rect.box[data-face="' + i + '"]');
  if (box) box.classList.toggle("active", on);
}

function faceCard(f, i) {
  const li = el("li", { class: "face", tabindex: "0", "aria-labelledby": "face-title-" + i });
  li.addEventListener("mouseenter", () => highlight(i, true));
  li.addEventListener("mouseleave", () => highlight(i, false));
  li.addEventListener("focus", () => highlight(i, true));
  li.addEventListener("blur", () => highlight(i, false));
  li.append(el("h3", { id: "face-title-" + i, text: "Face " + (i + 1) }));

  const thumbs = el("div", { class: "thumbs" });
  const crop = document.createElement("canvas");
  crop.width = crop.height = 144;
  crop.setAttribute("role", "img");
  crop.setAttribute("aria-label", "Face " + (i + 1) + " as detected");
  crop.getContext("2d").drawImage(photoView, f.box.x, f.box.y, f.box.width, f.box.height, 0, 0, 144, 144);
  thumbs.append(el("figure", {}, crop, el("figcaption", { text: "detected" })));
  if (f.scoremap) {
    for (const [attr, url] of Object.entries(f.scoremap)) {
      if (url) thumbs.append(el("figure", {}, el("img", { src: url, alt: "Score map for " + attr }), el("figcaption", { text: attr + " map" })));
    }
  }
  li.append(thumbs);

  const dl = el("dl");
  if (f.age) {
    const [lo, hi] = f.age.interval90;
    dl.append(el("dt", { text: "Age" }), el("dd", {}, el("span", { class: "big age-value", text: fmt(f.age.value) }), " years"));
    dl.append(el("dt", { text: "90% interval" }), el("dd", { class: "age-interval", text: fmt(lo, 0) + "–" + fmt(hi, 0) + " years (σ " + fmt(f.age.std) + ")" }));
  }
  if (f.beauty) {
    const [lo, hi] = f.beauty.interval90;
    const meter = el("meter", { min: "1", max: "10", value: String(f.beauty.value), "aria-label": "Attractiveness score" });
    dl.append(el("dt", { text: "Attractiveness" }), el("dd", {}, el("span", { class: "big beauty-value", text: fmt(f.beauty.value) }), " / 10"));
    dl.append(el("dt", { text: "90% interval" }), el("dd", { text: fmt(lo) + "–" + fmt(hi) + " (σ " + fmt(f.beauty.std, 2) + ")" }));
    dl.append(el("dt", { text: "" }), el("dd", {}, meter));
  }
  if (f.withheld && f.withheld.beauty === "possible-minor") {
    dl.append(el("dt", { text: "Attractiveness" }), el("dd", { class: "beauty-withheld", text: "not given: this face may be under 18" }));
  }
  dl.append(el("dt", { text: "Detector" }), el("dd", { text: fmt(f.score * 100, 0) + "% confident" }));
  li.append(dl);
  if (f.age && f.age.distribution) {
    li.append(el("p", { class: "chart-title", text: "Age distribution: 90% interval shaded, mean in red" }), distributionChart(f.age, i));
  }
  return li;
}

// The age distribution as bars, the 90% interval shaded and the mean as a line.
function distributionChart(age, i) {
  const { labels, probs } = age.distribution;
  const W = 300, H = 64, pad = 12;
  const lo = labels[0], hi = labels[labels.length - 1];
  const x = (v) => ((v - lo) / (hi - lo || 1)) * W;
  const top = Math.max(...probs) || 1;
  const bw = W / labels.length;
  const chart = svg("svg", { viewBox: "0 0 " + W + " " + (H + pad), class: "chart", role: "img" });
  const label = "Age distribution for face " + (i + 1) + ": mean " + fmt(age.value) + ", 90% between " + fmt(age.interval90[0], 0) + " and " + fmt(age.interval90[1], 0);
  chart.setAttribute("aria-label", label);
  const title = svg("title");
  title.textContent = label;
  chart.append(title);
  chart.append(svg("rect", { class: "band", x: x(age.interval90[0]), y: 0, width: Math.max(1, x(age.interval90[1]) - x(age.interval90[0])), height: H }));
  let d = "";
  labels.forEach((l, k) => {
    const h = (probs[k] / top) * (H - 2);
    if (h > 0.05) d += "M" + fmt(x(l) - bw / 2, 2) + " " + H + "h" + fmt(bw * 0.9, 2) + "v-" + fmt(h, 2) + "h-" + fmt(bw * 0.9, 2) + "z";
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
`;
