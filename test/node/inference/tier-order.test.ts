/**
 * The tiers' promise, read from the model cards: a customer who pays for `accurate` never gets a
 * worse estimate than `standard`, nor `standard` than `fast`. Each card measures the tiers it
 * serves (`tiers.<tier>.metrics`, written by training/dldl/export.py on the test splits); this
 * checks the order on every test set and on every age band with at least 100 faces.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { modelCards } from "../../../src/cli/env";

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
        expect(accurate!.mae).toBeLessThanOrEqual(standard!.mae);
        expect(standard!.mae).toBeLessThanOrEqual(fast!.mae);
        if (task === "attractiveness") {
          expect(accurate!.pc!).toBeGreaterThanOrEqual(standard!.pc!);
          expect(standard!.pc!).toBeGreaterThanOrEqual(fast!.pc!);
        }
        for (const [band, f] of Object.entries(fast!.bands ?? {})) {
          if (f.n < 100) continue;
          const [a, s] = [accurate!.bands![band], standard!.bands![band]];
          expect(a.mae!, `${set} ${band}: accurate vs standard`).toBeLessThanOrEqual(s.mae!);
          expect(s.mae!, `${set} ${band}: standard vs fast`).toBeLessThanOrEqual(f.mae!);
        }
      });
    }
  }
});
