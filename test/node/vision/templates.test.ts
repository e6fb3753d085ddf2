import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REPO } from "../../../src/cli/paths";
import { alignmentTemplateSchema } from "@faceage/contracts/card";

// The committed templates (npm run derive-template) that export.py copies into the model cards.
describe.each(["utkface", "mebeauty"])("training/templates/%s.json", (framing) => {
  const template = alignmentTemplateSchema.parse(JSON.parse(readFileSync(`${REPO}/training/templates/${framing}.json`, "utf8")));

  it("is a face: eyes level and apart, then nose, then mouth, ears outside the eyes", () => {
    const [rEye, lEye, nose, mouth, rEar, lEar] = template.keypoints;
    expect(lEye[0] - rEye[0]).toBeGreaterThan(0.2);
    expect(Math.abs(lEye[1] - rEye[1])).toBeLessThan(0.03);
    expect(nose[1]).toBeGreaterThan(Math.max(rEye[1], lEye[1]) + 0.1);
    expect(mouth[1]).toBeGreaterThan(nose[1] + 0.1);
    expect(rEar[0]).toBeLessThan(rEye[0]);
    expect(lEar[0]).toBeGreaterThan(lEye[0]);
    // Roughly centred, inside the crop.
    expect(Math.abs((rEye[0] + lEye[0]) / 2 - 0.5)).toBeLessThan(0.05);
    for (const v of template.keypoints.flat()) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it("weights the eyes most and was measured on many faces", () => {
    expect(Math.max(...template.weights)).toBe(1);
    expect(Math.min(template.weights[0], template.weights[1])).toBeGreaterThan(Math.max(template.weights[4], template.weights[5]));
    expect(template.n).toBeGreaterThan(1000);
  });
});
