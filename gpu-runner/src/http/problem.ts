/**
 * RFC 9457 problem details. `type` is about:blank, so `title` is the status phrase and `detail`
 * says what went wrong; `error` repeats it because KServe v2 / Triton clients read that field.
 * Never a stack trace, never an echo of the request body.
 */
import { PROBLEM_CONTENT_TYPE } from "@faceage/contracts/runner-protocol";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Content Too Large",
  499: "Client Closed Request",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function problem(status: number, detail: string, headers: Record<string, string> = {}): Response {
  const body = { type: "about:blank", title: TITLES[status] ?? "Error", status, detail, error: detail };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store", ...headers },
  });
}
