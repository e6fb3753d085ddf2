/**
 * The playground in real headless Chromium against the real local stack (runner on CPU, worker
 * in local workerd): upload a real photo, see boxes, ages, the distribution chart and score maps,
 * switch tiers, see a problem document rendered. Screenshots go to $TEST_ARTIFACTS (default: faceage-test-artifacts/ in the temporary directory).
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analysisSchema } from "../../../src/api/schemas";
import type { Analysis } from "../../../src/client";
import { startStack, type Stack } from "../../../scripts/lib/stack";
import { adultFacePhoto, facePhotoPath } from "../../support/photos";
import { ARTIFACTS, CHROMIUM, CHROMIUM_ARGS } from "./fixtures";

let stack: Stack;
let context: BrowserContext;
let page: Page;
let profile: string;
const consoleErrors: string[] = [];

beforeAll(async () => {
  [stack, context] = await Promise.all([
    startStack({ port: 0, runnerPort: 0 }),
    (async () => {
      profile = mkdtempSync(path.join(tmpdir(), "faceage-chromium-"));
      return chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
        viewport: { width: 1280, height: 1000 },
      });
    })(),
  ]);
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  mkdirSync(ARTIFACTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Waits for the page's own call to /v1/analyze and returns what the API answered. */
/** Waits for the page's own call to /v1/analyze; returns its URL and status. */
async function nextAnalysis(action: () => Promise<unknown>): Promise<{ url: URL; status: number }> {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().includes("/v1/analyze") && r.request().method() === "POST", { timeout: 60_000 }),
    action(),
  ]);
  return { url: new URL(response.url()), status: response.status() };
}

/**
 * What the API answered, as the page shows it under "Raw JSON answer" (Chromium does not keep
 * bodies of fetches reliably for the inspector), checked against the API's own schema.
 */
async function shownAnalysis(): Promise<Analysis> {
  await page.waitForFunction(() => (document.getElementById("raw-json")?.textContent ?? "").length > 0);
  return analysisSchema.parse(JSON.parse((await page.locator("#raw-json").textContent())!));
}

describe("playground", () => {
  it("serves an accessible page under a strict CSP", async () => {
    const response = await page.goto(`${stack.url}/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await expect(page.title()).resolves.toMatch(/playground/i);
    // Every control is reachable by its label (what a screen reader announces).
    for (const label of ["Tier", "Age", "Attractiveness", "Score maps", "Most faces", "API key"]) {
      expect(await page.getByLabel(label, { exact: true }).count(), label).toBe(1);
    }
    // The file picker is a real, keyboard-focusable input behind the drop zone.
    await page.locator("#photo").focus();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("photo");
    expect(await page.locator("#analyze").isDisabled()).toBe(true);
  });

  it("uploads a real photo and shows each face's box, age, interval, chart and score map", async () => {
    const photo = (await adultFacePhoto()).path;
    const { url, status } = await nextAnalysis(() => page.setInputFiles("#photo", photo));
    expect(status).toBe(200);
    expect(url.searchParams.get("tier")).toBe("standard");
    const analysis = await shownAnalysis();
    expect(analysis.image.sha256).toBe(createHash("sha256").update(readFileSync(photo)).digest("hex"));
    expect(analysis.faces.length).toBeGreaterThanOrEqual(1);

    await page.locator("#faces > li").first().waitFor();
    expect(await page.locator("#faces > li").count()).toBe(analysis.faces.length);

    // The first box is drawn where the API put it, in image pixels.
    const box = page.locator("#overlay rect.box").first();
    const [face] = analysis.faces;
    for (const [attr, value] of Object.entries({ x: face.box.x, y: face.box.y, width: face.box.width, height: face.box.height })) {
      expect(Number(await box.getAttribute(attr)), attr).toBeCloseTo(value, 3);
    }
    expect(await page.locator("#overlay").getAttribute("viewBox")).toBe(`0 0 ${analysis.image.width} ${analysis.image.height}`);
    // ... and is visible on screen over the photo.
    const onScreen = await box.boundingBox();
    expect(onScreen!.width).toBeGreaterThan(10);

    // The age, its 90% interval, the distribution chart and beauty as the API answered them.
    const card = page.locator("#faces > li").first();
    expect(face.age).toBeDefined();
    await expect(card.locator(".age-value").textContent()).resolves.toBe(face.age!.value.toFixed(1));
    const [lo, hi] = face.age!.interval90;
    await expect(card.locator(".age-interval").textContent()).resolves.toContain(`${lo.toFixed(0)}–${hi.toFixed(0)}`);
    expect(Number(face.age!.value)).toBeGreaterThan(0);
    expect((await card.locator("svg.chart path.bar").getAttribute("d"))!.length).toBeGreaterThan(20);
    await expect(card.locator(".beauty-value").textContent()).resolves.toBe(face.beauty!.value.toFixed(1));

    // Score maps: the API's PNG data URLs, in the card and over the photo.
    expect(face.scoremap?.age).toMatch(/^data:image\/png;base64,/);
    expect(await card.locator("img[alt='Score map for age']").getAttribute("src")).toBe(face.scoremap!.age);
    expect(await page.locator("#overlay image.map").count()).toBe(analysis.faces.length);
    // The heatmap images really decoded (a broken data URL would have naturalWidth 0).
    expect(await card.locator("img[alt='Score map for age']").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(64);

    // Route and timing as the API reported them.
    await expect(page.locator("#meta-route").textContent()).resolves.toBe(analysis.route);
    await expect(page.locator("#meta-server").textContent()).resolves.toBe(`${analysis.timing_ms.toFixed(0)} ms`);
    await expect(page.locator("#status").textContent()).resolves.toMatch(/face/);
    // The free plan's remaining budget, from the IETF RateLimit header.
    await expect(page.locator("#meta-ratelimit").textContent()).resolves.toMatch(/^\d+ left this minute, \d+ left this day$/);

    await page.screenshot({ path: path.join(ARTIFACTS, "playground-standard.png"), fullPage: true });
  });

  it("re-runs on the fast tier from the keyboard and shows the edge route", async () => {
    await page.locator("#tier").focus();
    const { url, status } = await nextAnalysis(() => page.keyboard.press("Home")); // first option: fast
    expect(url.searchParams.get("tier")).toBe("fast");
    expect(status).toBe(200);
    await page.waitForFunction(() => document.querySelector("#meta-route")?.textContent === "edge");
    const analysis = await shownAnalysis();
    expect(analysis.route).toBe("edge");
    expect(analysis.models.age?.name).toBe("TinyAgeNet");
    await expect(page.locator("#faces .age-value").first().textContent()).resolves.toBe(analysis.faces[0].age!.value.toFixed(1));
    await page.screenshot({ path: path.join(ARTIFACTS, "playground-fast.png"), fullPage: true });
  });

  it("shows the API's problem document for an image it cannot decode", async () => {
    const truncated = readFileSync(facePhotoPath()).subarray(0, 600);
    const { status } = await nextAnalysis(() =>
      page.setInputFiles("#photo", { name: "truncated.jpg", mimeType: "image/jpeg", buffer: Buffer.from(truncated) }),
    );
    expect(status).toBe(422);
    const alert = page.getByRole("alert");
    await alert.waitFor({ state: "visible" });
    // The problem document's status and title (RFC 9457), as the API wrote them.
    await expect(alert.textContent()).resolves.toMatch(/^422 Image cannot be decoded/);
  });

  it("ran without script errors", () => {
    // The 422 above is logged by Chromium as a failed resource load; nothing else may be.
    expect(consoleErrors.filter((e) => !/status of 422/.test(e))).toEqual([]);
  });
});
