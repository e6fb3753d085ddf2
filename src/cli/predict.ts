/**
 * predict: faces, ages and attractiveness in photos.
 *
 *   npm run predict -- photo.jpg [more.png ...] [--json] [--models models/ThinAgeNet.json,models/ThinAttNet.json]
 *                      [--no-flip] [--distribution] [--scoremap]
 *
 * Default models: every card in models/. Prints a table per image, or one JSON document.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { AttributeModel } from "../inference/model";
import { analyzePhoto } from "../inference/pipeline";
import { ImageError } from "../vision/errors";
import { initDecodersForNode } from "./node-decoders";
import { loadCard, loadDetector, modelCards, nodeBackend } from "./node-models";

async function main() {
  const { values: flags, positionals: positional } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      models: { type: "string" },
      "no-flip": { type: "boolean", default: false },
      distribution: { type: "boolean", default: false },
      scoremap: { type: "boolean", default: false },
    },
  });
  if (!positional.length) {
    console.error("usage: predict <image...> [--json] [--models a.json,b.json] [--no-flip] [--distribution] [--scoremap]");
    process.exit(2);
  }
  await initDecodersForNode();
  const cards = flags.models ? flags.models.split(",") : modelCards();
  const models = await Promise.all(
    cards.map((c) => {
      const { card, model } = loadCard(c);
      return AttributeModel.create(card, model, nodeBackend());
    }),
  );
  const detector = await loadDetector();
  const options = { flip: !flags["no-flip"], distribution: flags.distribution, scoremap: flags.scoremap };
  const results = [];
  for (const file of positional) {
    try {
      const r = await analyzePhoto(readFileSync(file), detector, models, options);
      results.push({ file, ...r });
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      results.push({ file, error: { kind: e.kind, message: e.message } });
    }
  }
  if (flags.json) {
    console.log(
      JSON.stringify({ models: models.map((m) => ({ name: m.card.name, version: m.card.version, task: m.card.task })), results }, null, 1),
    );
    return;
  }
  for (const r of results) {
    if ("error" in r) {
      console.log(`${r.file}: ${r.error!.kind}: ${r.error!.message}`);
      continue;
    }
    console.log(
      `${r.file}: ${r.width}x${r.height}, ${r.faces.length} face(s), ${Object.entries(r.timings)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(" ")} ms`,
    );
    r.faces.forEach((f, i) => {
      const box = [f.box.x, f.box.y, f.box.width, f.box.height].map((v) => Math.round(v)).join(",");
      const preds = Object.entries(f.predictions)
        .map(([name, p]) => `${name} ${p.value.toFixed(1)} ±${p.std.toFixed(1)} [${p.interval90.map((v) => v.toFixed(1)).join("–")}]`)
        .join("   ");
      console.log(`  #${i + 1} box ${box} score ${f.score.toFixed(2)}   ${preds}`);
    });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
