/**
 * The playground's browser code (served bundled as /playground.js; `npm run build:playground`
 * writes the bundle into ../bundle.generated.ts). It calls the same public `/v1/analyze` a
 * third-party app would, and writes server data into the page only as text or attributes, never
 * as HTML. Element ids are those of ../page.ts.
 */
import type { Analysis, Face, Problem } from "../../client";
import { byId, el, fmt, svg } from "./dom";
import { distributionChart } from "./distribution-chart";
import { remainingQuota } from "./rate-limit";

const form = byId<HTMLFormElement>("analyze-form");
const fileInput = byId<HTMLInputElement>("photo");
const drop = byId<HTMLElement>("drop");
const submit = byId<HTMLButtonElement>("analyze");
const statusEl = byId<HTMLElement>("status");
const errorEl = byId<HTMLElement>("error");
const result = byId<HTMLElement>("result");
const photoView = byId<HTMLImageElement>("photo-view");
const overlay = byId<SVGSVGElement>("overlay");
const facesEl = byId<HTMLElement>("faces");
const showMaps = byId<HTMLInputElement>("show-maps");
const checkbox = (id: string) => byId<HTMLInputElement>(id);

let image: Blob | null = null; // the photo being analysed
let imageUrl: string | null = null; // its object URL (revoked on replacement)
let inFlight: AbortController | null = null; // the running request
let last: Analysis | null = null; // the last analysis, for re-drawing the overlay

const setStatus = (text: string) => {
  statusEl.textContent = text;
};
function showError(title: string, detail?: string) {
  errorEl.replaceChildren(el("strong", { text: title }), document.createTextNode(detail ? `: ${detail}` : ""));
  errorEl.hidden = false;
}
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

function useImage(blob: Blob | null) {
  if (!blob || !/^image\//.test(blob.type || "image/")) {
    showError("Not an image", "choose a JPEG, PNG or WebP photo");
    return;
  }
  image = blob;
  if (imageUrl) URL.revokeObjectURL(imageUrl);
  imageUrl = URL.createObjectURL(blob);
  submit.disabled = false;
  void analyze();
}

fileInput.addEventListener("change", () => {
  if (fileInput.files?.[0]) useImage(fileInput.files[0]);
});
for (const type of ["dragenter", "dragover"]) {
  drop.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.add("dragging");
  });
}
for (const type of ["dragleave", "drop"]) drop.addEventListener(type, () => drop.classList.remove("dragging"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files[0];
  if (file) useImage(file);
});
document.addEventListener("paste", (e) => {
  const item = [...(e.clipboardData?.items ?? [])].find((i) => i.type.startsWith("image/"));
  if (item) useImage(item.getAsFile());
});
form.addEventListener("submit", (e) => {
  e.preventDefault();
  void analyze();
});
for (const id of ["tier", "attr-age", "attr-beauty", "explain"]) {
  byId(id).addEventListener("change", () => {
    if (image) void analyze();
  });
}
showMaps.addEventListener("change", () => {
  if (last) drawOverlay(last);
});

// Camera: only where the browser offers one (secure contexts: https or localhost).
const camera = {
  start: byId<HTMLButtonElement>("camera-start"),
  shoot: byId<HTMLButtonElement>("camera-shoot"),
  stop: byId<HTMLButtonElement>("camera-stop"),
  video: byId<HTMLVideoElement>("camera-video"),
  stream: null as MediaStream | null,
};
// Undefined outside secure contexts, whatever the DOM types say.
if (typeof navigator.mediaDevices?.getUserMedia === "function") camera.start.hidden = false;
function closeCamera() {
  for (const track of camera.stream?.getTracks() ?? []) track.stop();
  camera.stream = null;
  camera.video.hidden = camera.shoot.hidden = camera.stop.hidden = true;
  camera.start.hidden = false;
}
camera.start.addEventListener("click", async () => {
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" } });
  } catch (err) {
    showError("Camera unavailable", messageOf(err));
    return;
  }
  camera.video.srcObject = camera.stream;
  await camera.video.play();
  camera.video.hidden = camera.shoot.hidden = camera.stop.hidden = false;
  camera.start.hidden = true;
  camera.shoot.focus();
});
camera.stop.addEventListener("click", closeCamera);
camera.shoot.addEventListener("click", () => {
  const canvas = document.createElement("canvas");
  canvas.width = camera.video.videoWidth;
  canvas.height = camera.video.videoHeight;
  canvas.getContext("2d")?.drawImage(camera.video, 0, 0);
  closeCamera();
  canvas.toBlob((blob) => useImage(blob), "image/jpeg", 0.92);
});

function query(): URLSearchParams {
  const attributes: string[] = [];
  if (checkbox("attr-age").checked) attributes.push("age");
  if (checkbox("attr-beauty").checked) attributes.push("beauty");
  const q = new URLSearchParams({
    tier: byId<HTMLSelectElement>("tier").value,
    max_faces: byId<HTMLInputElement>("max-faces").value || "5",
    distribution: "true",
    explain: String(checkbox("explain").checked),
  });
  if (attributes.length) q.set("attributes", attributes.join(","));
  return q;
}

/** A problem document (RFC 9457) as a title and a one-line detail. */
function describeProblem(status: number, body: Partial<Problem> | null, retryAfter: string | null): [string, string] {
  const title = body?.title || `HTTP ${status}`;
  let detail = body?.detail || "";
  const errors = (body as { errors?: { name: string; reason: string }[] } | null)?.errors;
  if (errors) detail += ` ${errors.map((e) => `${e.name}: ${e.reason}`).join("; ")}`;
  if (retryAfter) detail += ` (retry in ${retryAfter} s)`;
  return [`${status} ${title}`, detail.trim()];
}

async function analyze() {
  if (!image) return;
  if (!checkbox("attr-age").checked && !checkbox("attr-beauty").checked) {
    showError("Nothing to estimate", "tick Age, Attractiveness or both");
    return;
  }
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  errorEl.hidden = true;
  submit.disabled = true;
  form.setAttribute("aria-busy", "true");
  setStatus("Analysing…");
  const headers: Record<string, string> = { "content-type": image.type || "application/octet-stream" };
  const key = byId<HTMLInputElement>("api-key").value.trim();
  if (key) headers.authorization = `Bearer ${key}`;
  const started = performance.now();
  try {
    const res = await fetch(`/v1/analyze?${query()}`, { method: "POST", body: image, headers, signal: controller.signal });
    const roundTrip = performance.now() - started;
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      showError(...describeProblem(res.status, body, res.headers.get("retry-after")));
      setStatus("The request failed.");
      return;
    }
    await render(body as Analysis, roundTrip, res.headers.get("ratelimit"));
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") return;
    showError("Network error", messageOf(err));
    setStatus("The request failed.");
  } finally {
    if (inFlight === controller) {
      inFlight = null;
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }
  }
}

function loaded(img: HTMLImageElement, src: string): Promise<void> {
  return new Promise((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error("the browser cannot display this image"));
    img.src = src;
  });
}

async function render(a: Analysis, roundTrip: number, rateLimit: string | null) {
  last = a;
  if (imageUrl) await loaded(photoView, imageUrl);
  byId("meta-route").replaceChildren(el("span", { class: `route route-${a.route}`, text: a.route }));
  byId("meta-cached").textContent = a.cached ? "yes" : "no";
  byId("meta-server").textContent = `${fmt(a.timing_ms, 0)} ms`;
  byId("meta-roundtrip").textContent = `${fmt(roundTrip, 0)} ms`;
  const models = [a.models.age, a.models.beauty].filter((m) => m != null).map((m) => `${m.name}@${m.version.slice(0, 8)}`);
  byId("meta-models").textContent = models.join(", ") || a.models.detector.name;
  byId("meta-ratelimit").textContent = remainingQuota(rateLimit);
  drawOverlay(a);
  byId("raw-json").textContent = JSON.stringify(a, null, 2);
  facesEl.replaceChildren(...a.faces.map((f, i) => faceCard(f, i)));
  result.hidden = false;
  const n = a.faces.length;
  setStatus(
    n === 0
      ? "No face found in this photo."
      : `${n}${n === 1 ? " face" : " faces"} found (route ${a.route}, ${fmt(a.timing_ms, 0)} ms on the server).`,
  );
}

function drawOverlay(a: Analysis) {
  const { width, height } = a.image;
  overlay.setAttribute("viewBox", `0 0 ${width} ${height}`);
  overlay.setAttribute("aria-label", `${a.faces.length} face boxes`);
  const scale = Math.max(1, width / 600);
  const nodes: SVGElement[] = [];
  a.faces.forEach((f, i) => {
    const b = f.box;
    const map = f.scoremap && (f.scoremap.age || f.scoremap.beauty);
    if (map && showMaps.checked) {
      nodes.push(svg("image", { href: map, x: b.x, y: b.y, width: b.width, height: b.height, class: "map", preserveAspectRatio: "none" }));
    }
    nodes.push(svg("rect", { x: b.x, y: b.y, width: b.width, height: b.height, class: "box", "data-face": i }));
    const label = String(i + 1) + (f.age ? ` · ${fmt(f.age.value, 0)} y` : "");
    const tagH = 20 * scale;
    const tagY = Math.max(0, b.y - tagH);
    nodes.push(svg("rect", { x: b.x, y: tagY, width: (label.length * 8 + 10) * scale, height: tagH, class: "tag" }));
    const text = svg("text", { x: b.x + 5 * scale, y: tagY + 15 * scale, class: "tag-text", "font-size": 14 * scale });
    text.textContent = label;
    nodes.push(text);
  });
  overlay.replaceChildren(...nodes);
}

function highlight(i: number, on: boolean) {
  overlay.querySelector(`rect.box[data-face="${i}"]`)?.classList.toggle("active", on);
}

function faceCard(f: Face, i: number): HTMLLIElement {
  const li = el("li", { class: "face", tabindex: "0", "aria-labelledby": `face-title-${i}` });
  li.addEventListener("mouseenter", () => highlight(i, true));
  li.addEventListener("mouseleave", () => highlight(i, false));
  li.addEventListener("focus", () => highlight(i, true));
  li.addEventListener("blur", () => highlight(i, false));
  li.append(el("h3", { id: `face-title-${i}`, text: `Face ${i + 1}` }));

  const thumbs = el("div", { class: "thumbs" });
  const crop = document.createElement("canvas");
  crop.width = crop.height = 144;
  crop.setAttribute("role", "img");
  crop.setAttribute("aria-label", `Face ${i + 1} as detected`);
  crop.getContext("2d")?.drawImage(photoView, f.box.x, f.box.y, f.box.width, f.box.height, 0, 0, 144, 144);
  thumbs.append(el("figure", {}, crop, el("figcaption", { text: "detected" })));
  for (const [attr, url] of Object.entries(f.scoremap ?? {})) {
    if (url)
      thumbs.append(el("figure", {}, el("img", { src: url, alt: `Score map for ${attr}` }), el("figcaption", { text: `${attr} map` })));
  }
  li.append(thumbs);

  const dl = el("dl");
  if (f.age) {
    const [lo, hi] = f.age.interval90;
    dl.append(el("dt", { text: "Age" }), el("dd", {}, el("span", { class: "big age-value", text: fmt(f.age.value) }), " years"));
    dl.append(
      el("dt", { text: "90% interval" }),
      el("dd", { class: "age-interval", text: `${fmt(lo, 0)}–${fmt(hi, 0)} years (σ ${fmt(f.age.std)})` }),
    );
  }
  if (f.beauty) {
    const [lo, hi] = f.beauty.interval90;
    const meter = el("meter", { min: "1", max: "10", value: String(f.beauty.value), "aria-label": "Attractiveness score" });
    dl.append(
      el("dt", { text: "Attractiveness" }),
      el("dd", {}, el("span", { class: "big beauty-value", text: fmt(f.beauty.value) }), " / 10"),
    );
    dl.append(el("dt", { text: "90% interval" }), el("dd", { text: `${fmt(lo)}–${fmt(hi)} (σ ${fmt(f.beauty.std, 2)})` }));
    dl.append(el("dt", { text: "" }), el("dd", {}, meter));
  }
  if (f.withheld?.beauty === "possible-minor") {
    dl.append(el("dt", { text: "Attractiveness" }), el("dd", { class: "beauty-withheld", text: "not given: this face may be under 18" }));
  }
  dl.append(el("dt", { text: "Detector" }), el("dd", { text: `${fmt(f.score * 100, 0)}% confident` }));
  li.append(dl);
  if (f.age?.distribution) {
    li.append(el("p", { class: "chart-title", text: "Age distribution: 90% interval shaded, mean in red" }), distributionChart(f.age, i));
  }
  return li;
}
