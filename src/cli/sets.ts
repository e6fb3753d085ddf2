/** Labelled evaluation sets by name: where each item's crop and photo are, and its label. */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { dataDir, REPO } from "./paths";
import { readCsv } from "./csv";

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
  /** The rater panel whose scale the labels are on, when it is not the served head's (a card.panels key). */
  panel?: string;
  items: LabelledItem[];
}

/**
 * The fixed 80/10/10 split of a set without an official one: SHA-1 of the file's stem (no
 * extension) mod 10 on its first 8 hex digits; 0 is test, 1 val. Same as training/dldl/data.py.
 */
export function hashSplit(file: string): "train" | "val" | "test" {
  const stem = file.replace(/^.*\//, "").replace(/\.[^.]*$/, "");
  const bucket = parseInt(createHash("sha1").update(stem).digest("hex").slice(0, 8), 16) % 10;
  return bucket === 0 ? "test" : bucket === 1 ? "val" : "train";
}

/** Where `npm run prepare-data` writes a set's aligned crops (ALIGNED_DIR overrides, as in training). */
export function alignedDir(name: string, framing: string, size: number): string {
  return join(process.env.ALIGNED_DIR ?? join(REPO, "data/aligned"), `${name}-${framing}-${size}`);
}

function prepared(name: string, framing: string, size: number, fallbackSize: number): string {
  const exact = alignedDir(name, framing, size);
  const dir = existsSync(join(exact, "labels.csv")) ? exact : alignedDir(name, framing, fallbackSize);
  if (!existsSync(join(dir, "labels.csv"))) {
    throw new Error(`${dir} is missing: run \`npm run prepare-data -- --set ${name} --framing ${framing} --size ${fallbackSize}\` first`);
  }
  return dir;
}

/**
 * utkface:<split>     UTKFace; crops = the 64 px copies, photos = the 200 px originals (has200 only)
 * utkface200:<split>  the same, restricted to faces that have both (the consistency check)
 * aaf                 All-Age-Faces photos, all of them (crops = the same files; for detection rates)
 * aaf:<split>         the hash split of AAF; crops = prepare-data's aligned 64 px crops, photos = the photos
 * mebeauty:<split>    crops = MTCNN crops, photos = the original photos (test split)
 * scut:<split>        SCUT-FBP5500 (1-5, panel "scut"); crops = prepare-data's aligned crops at the
 *                     model's size where prepared (else 128 px), photos = the 160 px faces
 * <folder>            a folder with labels.csv of file,age or file,mean[,std]
 */
export function loadSet(spec: string, options: { size?: number } = {}): LabelledSet {
  const root = dataDir();
  const [name, split = "test"] = spec.split(":");
  if (name === "aaf" && spec.includes(":")) {
    const aligned = prepared("aaf", "utkface", 64, 64);
    const rows = readCsv(join(aligned, "labels.csv")).filter((r) => hashSplit(r.file) === split);
    const photos = new Map(readCsv(join(root, "aaf/labels.csv")).map((r) => [r.file.replace(/\.[^.]*$/, ""), r.file]));
    return {
      name: spec,
      task: "age",
      items: rows.map((r) => {
        const photo = photos.get(r.file.replace(/\.[^.]*$/, ""));
        return { id: r.file, crop: join(aligned, r.file), photo: photo ? join(root, "aaf/faces", photo) : undefined, y: Number(r.age) };
      }),
    };
  }
  if (name === "scut") {
    const aligned = prepared("scut", "mebeauty", options.size ?? 128, 128);
    const rows = readCsv(join(aligned, "labels.csv")).filter((r) => r.split === split);
    const photos = new Map(readCsv(join(root, "scut-fbp5500/labels.csv")).map((r) => [r.file.replace(/\.[^.]*$/, ""), r.file]));
    return {
      name: spec,
      task: "attractiveness",
      panel: "scut",
      items: rows.map((r) => {
        const photo = photos.get(r.file.replace(/\.[^.]*$/, ""));
        return {
          id: r.file,
          crop: join(aligned, r.file),
          photo: photo ? join(root, "scut-fbp5500/faces", photo) : undefined,
          y: Number(r.mean),
        };
      }),
    };
  }
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
    const items = rows.map((r) => ({
      id: r.file,
      crop: join(root, "aaf/faces", r.file),
      photo: join(root, "aaf/faces", r.file),
      y: Number(r.age),
    }));
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
  throw new Error(
    `unknown set ${spec}: utkface:<split>, utkface200:<split>, aaf, aaf:<split>, mebeauty:<split>, scut:<split> or a folder with labels.csv`,
  );
}
