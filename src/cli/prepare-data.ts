/**
 * prepare-data: aligns photos into a training framing, for training on them with exactly the
 * crops that serving will produce: the same pipeline steps (src/inference/pipeline.ts), with the
 * framing's template from training/templates (which the trained model's card then carries).
 * Output (git-ignored): data/aligned/<name>-<framing>-<size>/ with one PNG per photo that has a
 * face, labels.csv (the input's rows, file renamed) and manifest.json (template, detection rate,
 * files without a face, files that could not be decoded).
 *
 *   npm run prepare-data -- --set aaf [--framing utkface] [--size 64] [--limit N] [--out dir]
 *   npm run prepare-data -- --set scut --framing mebeauty --size 128
 *   npm run prepare-data -- --dir path/to/photos [--framing utkface] [--size 64]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { encode as encodePng } from "fast-png";
import { alignmentTemplateSchema } from "@faceage/contracts/card";
import { cropFaces, findFaces } from "../inference/pipeline";
import { ImageError } from "../vision/errors";
import { Photo } from "../vision/photo";
import { dataDir, REPO, repoPath } from "./paths";
import { initDecodersForNode } from "./node-decoders";
import { loadDetector } from "./node-models";
import { readCsv } from "./csv";

interface Source {
  name: string;
  photos: { path: string; row?: Record<string, string> }[];
}

function listPhotos(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listPhotos(p));
    else if (/\.(jpe?g|png|webp)$/i.test(e.name)) out.push(p);
  }
  return out.sort();
}

function source(flags: { set?: string; dir?: string }): Source {
  if (flags.set === "aaf") {
    const root = join(dataDir(), "aaf");
    return { name: "aaf", photos: readCsv(join(root, "labels.csv")).map((row) => ({ path: join(root, "faces", row.file), row })) };
  }
  if (flags.set === "scut") {
    const root = join(dataDir(), "scut-fbp5500");
    return { name: "scut", photos: readCsv(join(root, "labels.csv")).map((row) => ({ path: join(root, "faces", row.file), row })) };
  }
  if (flags.dir) {
    const dir = repoPath(flags.dir);
    const labels = join(dir, "labels.csv");
    const photos = existsSync(labels)
      ? readCsv(labels).map((row) => ({ path: join(dir, row.file), row }))
      : listPhotos(dir).map((path) => ({ path }));
    return { name: basename(dir), photos };
  }
  throw new Error("prepare-data needs --set aaf|scut or --dir <folder of photos>");
}

async function main() {
  const { values: flags } = parseArgs({
    options: {
      set: { type: "string" },
      dir: { type: "string" },
      framing: { type: "string", default: "utkface" },
      size: { type: "string", default: "64" },
      limit: { type: "string" },
      out: { type: "string" },
    },
  });
  const framing = flags.framing;
  const size = Number(flags.size);
  const limit = flags.limit ? Number(flags.limit) : Infinity;
  const template = alignmentTemplateSchema.parse(JSON.parse(readFileSync(join(REPO, "training/templates", `${framing}.json`), "utf8")));
  const src = source(flags);
  const out = repoPath(flags.out ?? join("data/aligned", `${src.name}-${framing}-${size}`));
  mkdirSync(out, { recursive: true });
  await initDecodersForNode();
  const detector = await loadDetector();

  const rows: Record<string, string>[] = [];
  const noFace: string[] = [];
  const undecodable: string[] = [];
  const photos = src.photos.slice(0, limit);
  const started = Date.now();
  for (const [i, { path, row }] of photos.entries()) {
    let photo;
    try {
      photo = await Photo.open(readFileSync(path));
    } catch {
      undecodable.push(path);
      continue;
    }
    const [face] = await findFaces(photo, detector, 1);
    if (!face) {
      noFace.push(path);
      continue;
    }
    const spec = { template, size };
    let crop;
    try {
      [crop] = (await cropFaces(photo, [face], [spec]))(spec);
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      undecodable.push(path); // the finer re-read of a small face failed
      continue;
    }
    const file = relative(out, join(out, (row?.file ?? basename(path)).replace(/\.[^.]+$/, ".png")));
    mkdirSync(join(out, file, ".."), { recursive: true });
    writeFileSync(join(out, file), encodePng({ width: size, height: size, data: crop.data, channels: 3, depth: 8 }));
    rows.push({ ...(row ?? {}), file, score: face.score.toFixed(3) });
    if ((i + 1) % 500 === 0) console.error(`${i + 1}/${photos.length}`);
  }
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  writeFileSync(join(out, "labels.csv"), [cols.join(","), ...rows.map((r) => cols.map((c) => r[c] ?? "").join(","))].join("\n") + "\n");
  const manifest = {
    source: src.name,
    framing,
    size,
    template,
    photos: photos.length,
    aligned: rows.length,
    detection_rate: rows.length / Math.max(1, photos.length - undecodable.length),
    seconds: (Date.now() - started) / 1000,
    no_face: noFace,
    undecodable,
  };
  writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
  console.log(
    `${out}: ${rows.length}/${photos.length} aligned (${(100 * manifest.detection_rate).toFixed(2)}% detected), ${manifest.seconds.toFixed(0)} s`,
  );
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
