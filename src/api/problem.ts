/**
 * RFC 9457 problem details. Every error the API returns is one of these kinds, with a fixed
 * title and a `type` that resolves to its section of the docs page. Details are written by us,
 * never copied from the input or from an exception (no stack traces, no echo of the request).
 */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export const PROBLEMS = {
  "bad-request": { status: 400, title: "Bad request parameters" },
  unauthorized: { status: 401, title: "Invalid API key" },
  "not-found": { status: 404, title: "Not found" },
  "payload-too-large": { status: 413, title: "Image too large" },
  "unsupported-media-type": { status: 415, title: "Not a supported image" },
  "undecodable-image": { status: 422, title: "Image cannot be decoded" },
  "pixel-budget": { status: 422, title: "Image exceeds the pixel budget" },
  "rate-limited": { status: 429, title: "Rate limit exceeded" },
  internal: { status: 500, title: "Internal error" },
  "runner-unavailable": { status: 503, title: "Accurate tier unavailable" },
  "metering-unavailable": { status: 503, title: "Metering unavailable" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemKind = keyof typeof PROBLEMS;

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** For 400: which parameters were wrong and why (names only, never their values). */
  errors?: { name: string; reason: string }[];
}

/** Thrown anywhere below the handlers; the app's error handler renders it. */
export class ApiProblem extends Error {
  constructor(
    readonly kind: ProblemKind,
    readonly detail?: string,
    readonly extra: { errors?: ProblemDocument["errors"]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? PROBLEMS[kind].title);
    this.name = "ApiProblem";
  }

  get status(): number {
    return PROBLEMS[this.kind].status;
  }

  toDocument(): ProblemDocument {
    return problemDocument(this.kind, this.detail, this.extra.errors);
  }
}

export function problemDocument(kind: ProblemKind, detail?: string, errors?: ProblemDocument["errors"]): ProblemDocument {
  const { status, title } = PROBLEMS[kind];
  return { type: `/docs#problem-${kind}`, title, status, ...(detail ? { detail } : {}), ...(errors ? { errors } : {}) };
}

export function problemResponse(
  kind: ProblemKind,
  detail?: string,
  init: { errors?: ProblemDocument["errors"]; headers?: HeadersInit } = {},
): Response {
  const doc = problemDocument(kind, detail, init.errors);
  const headers = new Headers(init.headers);
  headers.set("Content-Type", PROBLEM_CONTENT_TYPE);
  return new Response(JSON.stringify(doc), { status: doc.status, headers });
}
