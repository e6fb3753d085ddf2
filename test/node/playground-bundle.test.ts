/** The committed playground bundle is the one its typed sources build to (run `npm run build:playground`). */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PLAYGROUND_BUNDLE, playgroundBundleModule } from "../../scripts/build-playground";

describe("playground bundle", () => {
  it("is current with src/playground/browser", async () => {
    const committed = readFileSync(PLAYGROUND_BUNDLE, "utf8");
    expect(
      committed === (await playgroundBundleModule()),
      "src/playground/bundle.generated.ts is stale: run `npm run build:playground`",
    ).toBe(true);
  });
});
