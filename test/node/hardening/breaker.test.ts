/**
 * The circuit breaker's half-open probe can be lost: in Workers, a call still pending when the
 * response goes out is cancelled and never reports back. Found by faults.test.ts (the breaker
 * stayed half-open with a dead probe, so `standard` never went back to a healthy runner).
 */
import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../src/routing/circuit-breaker";

describe("circuit breaker probes", () => {
  it("one probe at a time while half-open; a probe that never reports back stops blocking after another open period", () => {
    let t = 0;
    const b = new CircuitBreaker({ failureThreshold: 2, openMs: 1000, now: () => t });
    b.onFailure();
    b.onFailure();
    expect(b.tryAcquire()).toBe(false);
    t = 1000;
    expect(b.state).toBe("half-open");
    expect(b.tryAcquire()).toBe(true); // the probe
    expect(b.tryAcquire()).toBe(false); // its sibling waits
    t = 1999;
    expect(b.tryAcquire()).toBe(false);
    t = 2000; // the probe was lost (cancelled): another one may go
    expect(b.tryAcquire()).toBe(true);
    b.onSuccess();
    expect(b.state).toBe("closed");
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(true);
  });

  it("a failed probe opens it again for a full period", () => {
    let t = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, openMs: 500, now: () => t });
    b.onFailure();
    t = 500;
    expect(b.tryAcquire()).toBe(true);
    b.onFailure();
    expect(b.state).toBe("open");
    t = 999;
    expect(b.tryAcquire()).toBe(false);
    t = 1000;
    expect(b.tryAcquire()).toBe(true);
  });
});
