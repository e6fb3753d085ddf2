/**
 * acceptance: the issue's pipeline acceptance numbers, rerunnable after every model export.
 *   - detection rate on aaf/faces (>= 99%) and mebeauty/photos (>= 97%)
 *   - ThinAgeNet on utkface/200 test faces: --input photos MAE <= --input crops MAE + 0.3
 * Writes bench/results/pipeline-acceptance.json and .md.
 *
 *   npx tsx src/cli/acceptance.ts [--limit N] [--age models/ThinAgeNet.json] [--att models/ThinAttNet.json] [--note text]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadCard } from "./node-models";
import { REPO } from "./paths";
import { evaluate, formatResult, type EvalResult } from "./eval";

async function main() {
  const { values: flags } = parseArgs({
    options: {
      limit: { type: "string" },
      age: { type: "string", default: "models/ThinAgeNet.json" },
      att: { type: "string", default: "models/ThinAttNet.json" },
      note: { type: "string" },
    },
  });
  const limit = flags.limit ? Number(flags.limit) : undefined;
  const { age, att } = flags;
  const runs: Record<string, EvalResult> = {};
  const run = async (key: string, model: string, set: string, input: "crops" | "photos", detectOnly = false) => {
    runs[key] = await evaluate({ model, set, input, limit, detectOnly, keepPredictions: key.startsWith("utkface200") });
    console.log(formatResult(runs[key]));
  };
  // AAF only needs its detection rate: 6,637 photos without inference keep the run short.
  await run("aaf_photos", age, "aaf", "photos", true);
  await run("mebeauty_photos", att, "mebeauty:test", "photos");
  await run("utkface200_crops", age, "utkface200:test", "crops");
  await run("utkface200_photos", age, "utkface200:test", "photos");

  // The gap is measured on the same faces: those the photo path found a face in.
  const photoPreds = new Map(runs.utkface200_photos.predictions!.map((p) => [p.id, p]));
  const paired = runs.utkface200_crops.predictions!.filter((p) => photoPreds.has(p.id));
  const pairedMae = (get: (id: string, crop: { y: number; value: number }) => number) =>
    paired.reduce((s, p) => s + Math.abs(get(p.id, p) - p.y), 0) / Math.max(1, paired.length);
  const maeCrops = pairedMae((_, p) => p.value);
  const maePhotos = pairedMae((id) => photoPreds.get(id)!.value);
  const gap = maePhotos - maeCrops;
  const consistency = { n: paired.length, mae_crops: maeCrops, mae_photos: maePhotos, gap };
  for (const k of ["utkface200_photos", "utkface200_crops"]) delete runs[k].predictions;
  const checks = [
    { check: "detection rate aaf/faces >= 99%", value: runs.aaf_photos.detection_rate!, pass: runs.aaf_photos.detection_rate! >= 0.99 },
    {
      check: "detection rate mebeauty/photos >= 97%",
      value: runs.mebeauty_photos.detection_rate!,
      pass: runs.mebeauty_photos.detection_rate! >= 0.97,
    },
    {
      check: `utkface/200 test (same ${paired.length} faces): MAE photos ${maePhotos.toFixed(3)} - MAE crops ${maeCrops.toFixed(3)} <= 0.3`,
      value: gap,
      pass: gap <= 0.3,
    },
  ];
  const models = Object.fromEntries(
    [age, att].map((p) => {
      const { card } = loadCard(p);
      return [card.name, { version: card.version, sha256: card.sha256, card_metrics: card.metrics }];
    }),
  );
  const note = flags.note ?? null;
  const report = {
    date: new Date().toISOString(),
    note,
    machine: `${cpus().length}x ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, onnxruntime-node`,
    limit: limit ?? null,
    models,
    checks,
    consistency,
    runs,
  };
  const dir = join(REPO, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pipeline-acceptance.json"), JSON.stringify(report, null, 1) + "\n");
  const md = [
    `# Pipeline acceptance (${report.date})`,
    "",
    `Machine: ${report.machine}. Models: ${Object.entries(models)
      .map(([n, m]) => `${n} ${m.version}`)
      .join(", ")}.`,
    `Rerun: \`npx tsx src/cli/acceptance.ts\`${limit ? ` (this run: --limit ${limit})` : ""}.`,
    ...(note ? ["", `Note: ${note}`] : []),
    "",
    "| check | value | pass |",
    "|---|---|---|",
    ...checks.map(
      (c) =>
        `| ${c.check} | ${c.check.includes("rate") ? (100 * c.value).toFixed(2) + "%" : c.value.toFixed(3)} | ${c.pass ? "yes" : "**no**"} |`,
    ),
    "",
    "| run | N | detection | MAE | PC | ms/face (decode, detect, align, infer) |",
    "|---|---|---|---|---|---|",
    ...Object.entries(runs).map(([k, r]) => {
      const p = r.ms_per_phase;
      return `| ${k}: ${r.model} on ${r.set} --input ${r.input} | ${r.n}/${r.n_items} | ${r.detection_rate === null ? "-" : (100 * r.detection_rate).toFixed(2) + "%"} | ${r.metrics?.mae.toFixed(3) ?? "-"} | ${r.metrics?.pc.toFixed(3) ?? "-"} | ${r.ms_per_face.toFixed(1)} (${[p.decode, p.detect, p.align, p.infer].map((v) => v.toFixed(1)).join(", ")}) |`;
    }),
    "",
  ].join("\n");
  writeFileSync(join(dir, "pipeline-acceptance.md"), md);
  console.log(md);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
