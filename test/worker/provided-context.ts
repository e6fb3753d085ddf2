/**
 * What test/worker/global-setup.ts (Node) provides to the worker tests (workerd) through vitest's
 * inject(): types only, so that both runtimes' type checks read the one declaration.
 */
export interface Fixtures {
  /** base64 of each input. */
  photoJpeg: string;
  /** One young child's face (AAF, labelled 6 or under). */
  childJpeg: string;
  photoPng: string;
  photoWebp: string;
  groupJpeg: string;
  /** Twenty faces: AAF photos in two rows of ten (the most a request may ask for). */
  crowdJpeg: string;
  noFacePng: string;
  truncatedJpeg: string;
  notImage: string;
  bombPng: string;
}

export interface NodeReference {
  width: number;
  height: number;
  faces: { box: { x: number; y: number; width: number; height: number }; age: number; std: number }[];
  /** ThinAgeNet (the runner's model) on the same face: without flip (tier standard) and with (accurate). */
  thinAge: { standard: number; accurate: number };
  /** How far the worker's (WASM) TinyAgeNet answer may be from `faces[].age`/`std` (test/support/runtime-tolerance.ts). */
  tolerance: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    runnerUrl: string;
    faultRunnerUrl: string;
    runnerSecret: string;
    fixtures: Fixtures;
    /** TinyAgeNet (no flip) through the Node path on fixtures.photoJpeg. */
    nodeReference: NodeReference;
    /** test/fixtures/hostile/ (scripts/hostile-corpus.ts): each file, base64, with what the API must answer. */
    hostile: { file: string; expect: "4xx" | "200"; what: string; base64: string }[];
  }
}
