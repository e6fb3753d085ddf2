/**
 * The README's model tables quote the cards (models/*.json, the single source of truth); these
 * tests hold every quoted number (accuracy, bias, the minors guard's cost) to its card, to the precision the README prints, so a re-export
 * that forgets the README fails here instead of leaving a newcomer with stale figures.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../../../src/cli/paths";
import { modelCards } from "../../../src/cli/node-models";

interface Errors {
  n: number;
  mae: number | null;
}
interface SetMetrics extends Errors {
  pc: number;
  eps_error: number;
  cs5?: number;
  coverage90: number;
  interval90_width: number;
  bands?: Record<string, Errors>;
  by_race?: Record<string, Errors>;
  by_gender?: Record<string, Errors>;
  by_ethnicity?: Record<string, Errors>;
}
interface Card {
  name: string;
  version: string;
  metrics: Record<string, SetMetrics>;
  tiers?: Record<string, { metrics: Record<string, { minor_guard?: Record<string, number> }> }>;
}

const readme = readFileSync(join(REPO, "README.md"), "utf8");
const cards = new Map<string, Card>(
  modelCards().map((path) => {
    const card = JSON.parse(readFileSync(path, "utf8")) as Card;
    return [card.name, card];
  }),
);
const card = (name: string): Card => {
  const found = cards.get(name);
  expect(found, `a card for ${name}`).toBeDefined();
  return found!;
};

/** The README's name for each test set, as the cards key it. */
const SETS: Record<string, string> = {
  "UTKFace test": "utkface:test",
  "AAF held-out test": "aaf:test",
  "MEBeauty test": "mebeauty:test",
  "SCUT-FBP5500 test (1–5)": "scut:test",
};
// Group labels: UTKFace's race codes and MEBeauty's ethnicity names as the README writes them.
const UTKFACE_RACES: Record<string, string> = { White: "0", Black: "1", Asian: "2", Indian: "3", Others: "4" };
const MEBEAUTY_ETHNICITIES: Record<string, string> = {
  Asian: "asian",
  Black: "black",
  Caucasian: "caucasian",
  Hispanic: "hispanic",
  Indian: "indian",
  "Middle Eastern": "mideastern",
};

/** `shown` (a README figure, as text) is `value` rounded to the digits printed; `scale` 100 for a percentage. */
function expectQuotes(shown: string, value: number | null | undefined, what: string, scale = 1) {
  expect(value, `${what}: the card has no value`).toBeTypeOf("number");
  const digits = shown.split(".")[1]?.length ?? 0;
  const tolerance = 0.5 * 10 ** -digits + 1e-9;
  expect(
    Math.abs(Number(shown.replace(/,/g, "")) - value! * scale),
    `${what}: README ${shown}, card ${value! * scale}`,
  ).toBeLessThanOrEqual(tolerance);
}

/** A table's rows whose first cell starts with `prefix`, as trimmed cells. */
function rows(prefix: RegExp): string[][] {
  return readme
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("|"))
    .map((line) =>
      line
        .slice(1, -1)
        .split(" | ")
        .map((cell) => cell.trim()),
    )
    .filter((cells) => prefix.test(cells[0]));
}

describe("README accuracy table", () => {
  const table = rows(/^(Tiny|Thin)(Age|Att)Net \(`/);

  it("has a row for every served model on every test set its card measures", () => {
    const quoted = table.map(([model, set]) => `${model.split(" ")[0]} ${SETS[set.split(",")[0]]}`).sort();
    const measured = [...cards.values()].flatMap((c) =>
      Object.keys(c.metrics)
        .filter((k) => k.endsWith(":test"))
        .map((k) => `${c.name} ${k}`),
    );
    expect(quoted).toEqual(measured.sort());
  });

  for (const [model, set, mae, eps, cs5, coverage, width] of table) {
    it(`${model}, ${set}`, () => {
      const name = model.split(" ")[0];
      const c = card(name);
      expect(model, "version").toContain(`\`${c.version}\``);
      const [setName, n] = set.split(", n = ");
      const m = c.metrics[SETS[setName]];
      expect(m, `${name} has ${setName} metrics`).toBeDefined();
      expect(Number(n.replace(/,/g, "")), "n").toBe(m.n);
      const [, maeShown, pcShown] = /^([\d.]+) \S+ \(PC ([\d.]+)\)$/.exec(mae) ?? [];
      expectQuotes(maeShown, m.mae, "MAE");
      expectQuotes(pcShown, m.pc, "PC");
      expectQuotes(eps, m.eps_error, "ε-error");
      if (cs5 !== "–") expectQuotes(cs5.replace("%", ""), m.cs5, "CS(5)", 100);
      expectQuotes(coverage.replace("%", ""), m.coverage90, "coverage", 100);
      expectQuotes(width.split(" ")[0], m.interval90_width, "interval width");
    });
  }
});

describe("README bias table", () => {
  const table = rows(/^(Tiny|Thin)(Age|Att)Net MAE \(/);

  it("has a row for each of the four models", () => {
    expect(table.map(([model]) => model.split(" ")[0]).sort()).toEqual([...cards.keys()].sort());
  });

  for (const [label, ...cells] of table) {
    it(label, () => {
      const [name, rest] = label.split(" MAE ");
      const m = card(name).metrics[SETS[rest.split(", ")[1]]];
      const bands = Object.keys(m.bands ?? {});
      cells.slice(0, 5).forEach((cell, i) => {
        if (cell === "–") return;
        const [, mae, n] = /^([\d.]+) \((?:n )?([\d,]+)\)$/.exec(cell) ?? [];
        expectQuotes(mae, m.bands?.[bands[i]]?.mae, `band ${bands[i]}`);
        expect(Number(n.replace(/,/g, "")), `band ${bands[i]} n`).toBe(m.bands?.[bands[i]]?.n);
      });
      const groups = m.by_race ? { codes: UTKFACE_RACES, errors: m.by_race } : { codes: MEBEAUTY_ETHNICITIES, errors: m.by_ethnicity! };
      for (const [, group, mae, n] of cells[5].matchAll(
        /(White|Black|Asian|Indian|Others|Caucasian|Hispanic|Middle Eastern) ([\d.]+)(?: \(([\d,]+)\))?/g,
      )) {
        const errors = groups.errors[groups.codes[group]];
        expectQuotes(mae, errors?.mae, group);
        if (n) expect(Number(n.replace(/,/g, "")), `${group} n`).toBe(errors?.n);
      }
      const [women, men] = cells[6].split(" vs ");
      const gender = m.by_gender!;
      expectQuotes(women, (gender.female ?? gender["1"])?.mae, "women");
      expectQuotes(men, (gender.male ?? gender["0"])?.mae, "men");
    });
  }
});

describe("README minors-guard table", () => {
  const table = rows(/^`(fast|standard|accurate)` \((Tiny|Thin)AgeNet\)$/);
  const SHARES = ["minors_scored", "teens_13_17_scored", "adults_18_25_withheld", "adults_26_40_withheld"] as const;

  it("has a row for every age tier on every test set", () => {
    const quoted = table.map(([label, set]) => `${label} ${SETS[set]}`).sort();
    const measured = [...cards.values()].flatMap((c) =>
      Object.entries(c.tiers ?? {}).flatMap(([tier, { metrics }]) =>
        Object.entries(metrics)
          .filter(([, m]) => m.minor_guard)
          .map(([set]) => `\`${tier}\` (${c.name}) ${set}`),
      ),
    );
    expect(quoted).toEqual(measured.sort());
  });

  for (const [label, set, ...shares] of table) {
    it(`${label}, ${set}`, () => {
      const [, tier, name] = /^`(\w+)` \((\w+)\)$/.exec(label) ?? [];
      const guard = card(name).tiers?.[tier]?.metrics[SETS[set]]?.minor_guard;
      expect(guard, `${name} ${tier} ${set} minor_guard`).toBeDefined();
      for (const [i, shown] of shares.entries()) {
        expectQuotes(shown.replace("%", ""), guard?.[SHARES[i]], SHARES[i], 100);
      }
    });
  }
});
