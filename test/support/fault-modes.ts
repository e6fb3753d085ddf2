/** What the fault runner (./fault-runner.ts, Node) can be told to do; also read by the worker tests in workerd. */
export type FaultMode = "pass" | "slow" | "error" | "garbage" | "drop" | "huge";
