/** Labelled evaluation sets by name: where each item's crop and photo are, and its label. */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { dataDir, readCsv } from "./env";

export interface LabelledItem {
  id: string;
  /** A model-ready crop (tight, already in the set's training framing), if the set has one. */
  crop?: string;
  /** A photo for the decode -> detect -> align path, if the set has one. */
  photo?: string;
  y: number;
  /** Per-image label spread (MEBeauty rater std), else undefined. */
  sigma?: number;
}

export interface LabelledSet {
  name: string;
  task: "age" | "attractiveness";
  items: LabelledItem[];
}

/**
 * utkface:<split>     UTKFace; crops = the 64 px copies, photos = the 200 px originals (has200 only)
 * utkface200:<split>  the same, restricted to faces that have both (the consistency check)
 * aaf                 All-Age-Faces photos (crops = the same files)
 * mebeauty:<split>    crops = MTCNN crops, photos = the original photos (test split)
 * <folder>            a folder with labels.csv of file,age or file,mean[,std]
 */
export function loadSet(spec: string): LabelledSet {
  const root = dataDir();
  const [name, split = "test"] = spec.split(":");
  if (name === "utkface" || name === "utkface200") {
    const rows = readCsv(join(root, "utkface/labels.csv")).filter((r) => r.split === split && (name === "utkface" || r.has200 === "1"));
    return {
      name: spec,
      task: "age",
      items: rows.map((r) => ({
        id: r.file,
        crop: join(root, "utkface/64", r.file),
        photo: r.has200 === "1" ? join(root, "utkface/200", r.file) : undefined,
        y: Number(r.age),
      })),
    };
  }
  if (name === "aaf") {
    const rows = readCsv(join(root, "aaf/labels.csv"));
    const items = rows.map((r) => ({ id: r.file, crop: join(root, "aaf/faces", r.file), photo: join(root, "aaf/faces", r.file), y: Number(r.age) }));
    return { name: spec, task: "age", items };
  }
  if (name === "mebeauty") {
    const rows = readCsv(join(root, "mebeauty/scores.csv")).filter((r) => r.split === split);
    return {
      name: spec,
      task: "attractiveness",
      items: rows.map((r) => ({
        id: r.file,
        crop: r.crop ? join(root, "mebeauty", r.crop) : undefined,
        photo: r.photo ? join(root, "mebeauty", r.photo) : undefined,
        y: Number(r.mean),
        sigma: r.std ? Number(r.std) : undefined,
      })),
    };
  }
  const folder = resolve(spec);
  if (existsSync(join(folder, "labels.csv")) && statSync(folder).isDirectory()) {
    const rows = readCsv(join(folder, "labels.csv"));
    const task = "age" in rows[0] ? "age" : "mean" in rows[0] ? "attractiveness" : null;
    if (!task) throw new Error(`${folder}/labels.csv needs a column age or mean`);
    return {
      name: folder,
      task,
      items: rows.map((r) => ({
        id: r.file,
        crop: join(folder, r.file),
        photo: join(folder, r.file),
        y: Number(task === "age" ? r.age : r.mean),
        sigma: r.std ? Number(r.std) : undefined,
      })),
    };
  }
  throw new Error(`unknown set ${spec}: utkface:<split>, utkface200:<split>, aaf, mebeauty:<split> or a folder with labels.csv`);
}
