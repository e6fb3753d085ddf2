/**
 * The results of a batch, image by image, and what the request log says about them. An item
 * that failed keeps what its own request would have told the caller: its problem document and,
 * when it had one, its `Retry-After` (as `retry_after`, seconds), since one HTTP header cannot
 * speak for several answers.
 */
import type { LogVariables } from "./log";
import type { ApiProblem, ProblemDocument } from "./problem";
import type { Analysis } from "./schemas";

export interface BatchItem {
  index: number;
  status: number;
  analysis?: Analysis;
  problem?: ProblemDocument;
  retry_after?: number;
}

export class BatchOutcomes {
  readonly results: BatchItem[] = [];
  private readonly fallbacks = new Set<string>();

  analysis(index: number, analysis: Analysis): void {
    this.results.push({ index, status: 200, analysis });
  }

  problem(index: number, problem: ApiProblem): void {
    const retryAfter = Number(problem.extra.headers?.["Retry-After"]);
    this.results.push({
      index,
      status: problem.status,
      problem: problem.toDocument(),
      ...(retryAfter > 0 ? { retry_after: retryAfter } : {}),
    });
  }

  /** Why an item's runner was skipped (the analyzer's onFallback). */
  fallback(reason: string): void {
    this.fallbacks.add(reason);
  }

  /** The request log's view: every route taken, in order of first use, and every fallback reason. */
  logSummary(): LogVariables["analysis"] {
    const analysed = this.results.flatMap((r) => (r.analysis ? [r.analysis] : []));
    return {
      route: [...new Set(analysed.map((a) => a.route))].join(","),
      cached: analysed.length > 0 && analysed.every((a) => a.cached),
      faces: analysed.reduce((n, a) => n + a.faces.length, 0),
      items: this.results.length,
      ...(this.fallbacks.size > 0 ? { fallback: [...this.fallbacks].join(",") } : {}),
    };
  }
}
