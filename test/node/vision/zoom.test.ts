import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REPO } from "../../../src/cli/paths";
import { zoomAboutCentre } from "../../../src/vision/image";

// The accurate tier's zoomed views must be the ones its card metrics were measured on: PyTorch's
// grid_sample views from training/dldl (python3 -m training.dldl.vectors writes them).
const vectors = JSON.parse(readFileSync(`${REPO}/test/vectors/views.json`, "utf8"));
const [height, width] = vectors.image.shape;
const image = { width, height, data: Uint8Array.from(vectors.image.data) };
const zooms = vectors.zooms as { scale: number; data: number[] }[];

describe("zoomAboutCentre", () => {
  it.each(zooms)("x$scale matches evaluate.predict's view", (zoom) => {
    const out = zoomAboutCentre(image, zoom.scale);
    expect([out.width, out.height]).toEqual([width, height]);
    // Float32 (PyTorch) vs float64 arithmetic may land a .5 on either side: 1 level at most.
    const worst = Math.max(...Array.from(out.data, (v, i) => Math.abs(v - zoom.data[i])));
    expect(worst).toBeLessThanOrEqual(1);
    expect(out.data).not.toEqual(image.data);
  });

  it("is the identity at scale 1", () => {
    expect(zoomAboutCentre(image, 1).data).toEqual(image.data);
  });
});
