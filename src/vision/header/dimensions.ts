import type { DecodeBudget } from "../budget";
import { ImageError } from "../errors";
import type { ImageType } from "../sniff";

/** The pixel and side limits, applied by each walker as soon as it knows the dimensions. */
export function checkDimensions(type: ImageType, width: number, height: number, budget: DecodeBudget): void {
  if (!(width > 0 && height > 0)) throw new ImageError("undecodable", `${type}: no image dimensions in header`);
  if (width > budget.maxSide || height > budget.maxSide) {
    throw new ImageError("too_large", `${type}: ${width}x${height} has a side over ${budget.maxSide}`);
  }
  if (width * height > budget.maxPixels) {
    throw new ImageError("too_large", `${width}x${height} exceeds the ${budget.maxPixels}-pixel budget`);
  }
}
