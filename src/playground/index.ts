/**
 * The playground, as a Hono route module the worker mounts at `/`: one page, its stylesheet and
 * its script, all same-origin so a strict Content-Security-Policy holds (no inline code; images
 * only from the page itself, the user's own photo as a blob: URL and the API's data: score maps).
 */
import { Hono } from "hono";
import { playgroundHtml } from "./page";
import { playgroundScript } from "./bundle.generated";
import { playgroundCss } from "./style";

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const asset = (body: string, type: string) => () =>
  new Response(body, {
    headers: {
      "content-type": `${type}; charset=utf-8`,
      // Small and versioned with the worker: revalidate, so a deploy shows at once.
      "cache-control": "public, max-age=0, must-revalidate",
      "x-content-type-options": "nosniff",
    },
  });

export const playground = new Hono();

playground.get(
  "/",
  () =>
    new Response(playgroundHtml, {
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "public, max-age=0, must-revalidate",
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        // The camera button needs it; nothing else does.
        "permissions-policy": "camera=(self), microphone=(), geolocation=()",
      },
    }),
);
playground.get("/playground.js", asset(playgroundScript, "text/javascript"));
playground.get("/playground.css", asset(playgroundCss, "text/css"));
