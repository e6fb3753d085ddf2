/** The v1 routes, declared once: validation, handler types and /openapi.json all come from these. */
import { createRoute } from "@hono/zod-openapi";
import {
  analysisSchema,
  analyzeQuerySchema,
  batchBodyDoc,
  batchSchema,
  healthSchema,
  imageBodyDoc,
  modelsSchema,
  problemSchema,
} from "./schemas";

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: problemSchema } },
});

const rateLimitHeadersDoc = {
  RateLimit: {
    schema: { type: "string" as const },
    description: 'Remaining requests and seconds to reset per window, e.g. `"minute";r=9;t=42, "day";r=499;t=3600`.',
  },
  "RateLimit-Policy": {
    schema: { type: "string" as const },
    description: 'The plan\'s windows, e.g. `"minute";q=10;w=60, "day";q=500;w=86400`.',
  },
};

const errors = {
  400: problem("Bad parameters or body."),
  401: problem("The API key is malformed, unknown or revoked."),
  413: problem("The image is over the byte limit."),
  415: problem("The body is not a JPEG, PNG or WebP image."),
  422: problem("The image cannot be decoded, or is over the pixel budget."),
  429: {
    ...problem("Over the plan's rate limit; see `Retry-After`."),
    headers: { ...rateLimitHeadersDoc, "Retry-After": { schema: { type: "integer" as const } } },
  },
  503: {
    ...problem(
      "tier=accurate and the GPU runner cannot answer, or API keys and rate limits cannot be checked (metered routes fail closed); see `Retry-After`.",
    ),
    headers: { "Retry-After": { schema: { type: "integer" as const } } },
  },
};

// A key is optional: anonymous calls get the free plan.
const security: Record<string, string[]>[] = [{ bearer: [] }, {}];

export const analyzeRoute = createRoute({
  method: "post",
  path: "/v1/analyze",
  summary: "Estimate age and attractiveness of the faces in one image",
  security,
  request: { query: analyzeQuerySchema, body: imageBodyDoc },
  responses: {
    200: {
      description: "The faces found (possibly none) and their estimates.",
      headers: rateLimitHeadersDoc,
      content: { "application/json": { schema: analysisSchema } },
    },
    ...errors,
  },
});

export const batchRoute = createRoute({
  method: "post",
  path: "/v1/analyze/batch",
  summary: "Several images in one multipart request (each counts as one request against the limit)",
  security,
  request: { query: analyzeQuerySchema, body: batchBodyDoc },
  responses: {
    200: {
      description: "One result per image, in order; an image that fails has its own problem.",
      headers: rateLimitHeadersDoc,
      content: { "application/json": { schema: batchSchema } },
    },
    ...errors,
  },
});

export const modelsRoute = createRoute({
  method: "get",
  path: "/v1/models",
  summary: "The cards of the models in service (free: not counted against the limit)",
  security,
  responses: {
    200: {
      description: "Detector and model cards.",
      headers: rateLimitHeadersDoc,
      content: { "application/json": { schema: modelsSchema } },
    },
    401: errors[401],
    429: errors[429],
  },
});

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness, and the worker's view of the GPU runner",
  responses: { 200: { description: "Up.", content: { "application/json": { schema: healthSchema } } } },
});
