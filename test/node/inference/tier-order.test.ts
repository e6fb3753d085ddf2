/**
 * The tiers' promise, read from the model cards: a customer who pays for `accurate` never gets a
 * worse estimate than `standard`, nor `standard` than `fast`. Each card measures the tiers it
 * serves (`tiers.<tier>.metrics`, written by training/dldl/export.py on the test splits); this
 * checks the order on every test set and on every age band with at least 100 faces.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelCards } from "../../../src/cli/node-models";

const ORDER = ["accurate", "standard", "fast"] as const;
type Tier = (typeof ORDER)[number];
interface TierMetrics {
  n: number;
  mae: number;
  pc?: number;
  bands?: Record<string, { n: number; mae: number | null }>;
}

const cards = modelCards().map((path) => JSON.parse(readFileSync(path, "utf8")));

/** task -> tier -> set -> metrics, from every card that serves a tier. */
function tierTable(): Map<string, Map<Tier, Record<string, TierMetrics>>> {
  const table = new Map<string, Map<Tier, Record<string, TierMetrics>>>();
  for (const card of cards) {
    for (const [tier, entry] of Object.entries(card.tiers ?? {}) as [Tier, { metrics: Record<string, TierMetrics> }][]) {
      const byTier = table.get(card.task) ?? new Map();
      expect(byTier.has(tier), `two ${card.task} cards serve ${tier}`).toBe(false);
      byTier.set(tier, entry.metrics);
      table.set(card.task, byTier);
    }
  }
  return table;
}

/**
 * Where the promise does not hold today, each with its numbers. Listed, not skipped: the test
 * fails when a listed breach stops happening (take it off the list) and when any other comparison
 * breaks. Fixing these is issue 11's work (a better ThinAgeNet), not a change to this list.
 */
const KNOWN_BREACHES: { task: string; set: string; band: string; tier: Tier; below: Tier; why: string }[] = [
  // ThinAgeNet 1ae6c3eff872 (thin-age-4 + tiny-age-4's float weights, distributions averaged), UTKFace
  // test MAE at 60+: mirrored, the ensemble is worse there than in one pass. On validation every
  // accurate view set breached standard on some band (card: serving.accurate_choice), so the rule
  // (training/dldl/tier_choice.py) fell back to the mirror alone. standard now beats fast at 60+
  // (8.24 vs 8.40 y), where thin-age-4 alone did not (8.62).
  { task: "age", set: "utkface:test", band: "60+", tier: "accurate", below: "standard", why: "8.31 vs 8.24 y" },
];

const breach = (task: string, set: string, band: string, tier: Tier, below: Tier) =>
  KNOWN_BREACHES.find((b) => b.task === task && b.set === set && b.band === band && b.tier === tier && b.below === below);

/** `tier`'s error must not exceed `below`'s (the next cheaper tier), unless a known breach says it does. */
function expectNoWorse(task: string, set: string, band: string, tier: Tier, below: Tier, mae: number, cheaperMae: number) {
  const known = breach(task, set, band, tier, below);
  if (known)
    expect(mae, `${set} ${band}: ${tier} vs ${below} is a known breach (${known.why}); it holds now: remove it`).toBeGreaterThan(
      cheaperMae,
    );
  else expect(mae, `${set} ${band}: ${tier} vs ${below}`).toBeLessThanOrEqual(cheaperMae);
}

describe("tier order in the model cards", () => {
  const table = tierTable();

  it("every task's cards measure all three tiers", () => {
    expect([...table.keys()].sort()).toEqual(["age", "attractiveness"]);
    for (const [task, byTier] of table) expect([...byTier.keys()].sort(), task).toEqual([...ORDER].sort());
  });

  for (const [task, byTier] of table) {
    const sets = Object.keys(byTier.get("fast") ?? {});
    for (const set of sets) {
      it(`${task} on ${set}: accurate <= standard <= fast`, () => {
        const [accurate, standard, fast] = ORDER.map((t) => byTier.get(t)?.[set]);
        expect(accurate && standard && fast, `${set} is measured for every tier`).toBeTruthy();
        expectNoWorse(task, set, "all", "accurate", "standard", accurate!.mae, standard!.mae);
        expectNoWorse(task, set, "all", "standard", "fast", standard!.mae, fast!.mae);
        if (task === "attractiveness") {
          expect(accurate!.pc!).toBeGreaterThanOrEqual(standard!.pc!);
          expect(standard!.pc!).toBeGreaterThanOrEqual(fast!.pc!);
        }
        for (const [band, f] of Object.entries(fast!.bands ?? {})) {
          if (f.n < 100) continue;
          const [a, s] = [accurate!.bands![band], standard!.bands![band]];
          expectNoWorse(task, set, band, "accurate", "standard", a.mae!, s.mae!);
          expectNoWorse(task, set, band, "standard", "fast", s.mae!, f.mae!);
        }
      });
    }
  }

  it("lists only breaches of sets and bands the cards measure", () => {
    for (const b of KNOWN_BREACHES) expect(table.get(b.task)?.get(b.tier)?.[b.set], `${b.task} ${b.set}`).toBeTruthy();
  });
});
