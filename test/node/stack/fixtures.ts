/** What the browser tests need besides photos (test/support/photos.ts): where screenshots go, and Chromium. */
import { tmpdir } from "node:os";
import path from "node:path";

/** Screenshots: $TEST_ARTIFACTS, else a folder in the system's temporary directory (never the work tree). */
export const ARTIFACTS = process.env.TEST_ARTIFACTS
  ? path.resolve(process.env.TEST_ARTIFACTS)
  : path.join(tmpdir(), "faceage-test-artifacts");

/** Debian's Chromium, launched the way this machine allows (no sandbox, no GPU, no network extras). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
