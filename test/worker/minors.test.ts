/**
 * No attractiveness score for a face that may be a minor (src/api/minors.ts): beauty asked for
 * on a young child's photo is withheld with its reason, on every tier, whether or not age was
 * asked for; an adult's is given. Real photos, real models in workerd and on the real runner.
 */
import { describe, expect, it } from "vitest";
import { analyze, bytesOf, fixtures } from "./support/http";

interface Answer {
  faces: {
    age?: { value: number; interval90: [number, number] };
    beauty?: { value: number };
    withheld?: { beauty?: string };
    scoremap?: { age?: string; beauty?: string };
  }[];
  models: { age?: { name: string }; beauty?: { name: string } };
  route: string;
}

const child = bytesOf(fixtures.childJpeg);
const adult = bytesOf(fixtures.photoJpeg);

async function answer(bytes: Uint8Array, query: string): Promise<Answer> {
  const res = await analyze(bytes, query, { env: { CACHE_TTL_S: 0 } });
  expect(res.status).toBe(200);
  return (await res.json()) as Answer;
}

describe("beauty for possible minors", () => {
  it.each(["fast", "standard"])("is withheld on a young child's face (tier %s), age still given", async (tier) => {
    const a = await answer(child, `tier=${tier}&attributes=age,beauty&explain=true`);
    expect(a.faces).toHaveLength(1);
    const [face] = a.faces;
    expect(face.age!.interval90[0]).toBeLessThan(18);
    expect(face.beauty).toBeUndefined();
    expect(face.withheld).toEqual({ beauty: "possible-minor" });
    expect(face.scoremap?.age).toMatch(/^data:image\/png;base64,/);
    expect(face.scoremap?.beauty).toBeUndefined();
    expect(a.route).toBe(tier === "fast" ? "edge" : "gpu");
  });

  it("is withheld when only beauty is asked for: age is estimated for the check but not returned", async () => {
    const a = await answer(child, "tier=fast&attributes=beauty");
    const [face] = a.faces;
    expect(face.age).toBeUndefined();
    expect(face.beauty).toBeUndefined();
    expect(face.withheld).toEqual({ beauty: "possible-minor" });
    expect(a.models.age?.name).toBe("TinyAgeNet");
  });

  it("is given for a clearly adult face, with nothing withheld", async () => {
    const a = await answer(adult, "tier=fast&attributes=beauty");
    const [face] = a.faces;
    expect(face.beauty!.value).toBeGreaterThanOrEqual(1);
    expect(face.age).toBeUndefined();
    expect(face.withheld).toBeUndefined();
  });

  it("uses the age card's own threshold unless the operator sets MINOR_RISK", async () => {
    // MINOR_RISK = 0 withholds every face with any P(age < 18) at all: the clearly adult face too.
    const res = await analyze(adult, "tier=fast&attributes=beauty", { env: { CACHE_TTL_S: 0, MINOR_RISK: 0 } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Answer).faces[0].withheld).toEqual({ beauty: "possible-minor" });
  });

  it("cannot be switched off: a MINOR_RISK above 0.5 is a misconfiguration, answered 500, never a score", async () => {
    const res = await analyze(child, "tier=fast&attributes=beauty", { env: { CACHE_TTL_S: 0, MINOR_RISK: 0.9 } });
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(JSON.stringify(await res.json())).not.toMatch(/"beauty":\{"value"/);
  });
});
