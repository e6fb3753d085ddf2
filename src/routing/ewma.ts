/** Exponentially weighted moving average of the runner's latency: recent calls count most. */
export class Ewma {
  private current: number | undefined;

  constructor(private readonly alpha = 0.2) {}

  observe(sample: number): void {
    this.current = this.current === undefined ? sample : this.alpha * sample + (1 - this.alpha) * this.current;
  }

  /** undefined until the first sample. */
  get value(): number | undefined {
    return this.current;
  }
}
