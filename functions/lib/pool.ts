/**
 * Bounded concurrency for writes driven by a stream of rows: `run` waits while `limit`
 * tasks are in flight, so a 100,000-row file never queues 100,000 pending writes. The
 * first failure stops new work and is rethrown by `run` or `drain`, so the handler
 * fails (and is retried) instead of reporting a half-done file as done.
 */
export class Pool {
  readonly #inFlight = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(readonly limit: number) {}

  async run(task: () => Promise<void>): Promise<void> {
    while (this.#inFlight.size >= this.limit) await Promise.race(this.#inFlight);
    if (this.#failure) throw this.#failure.error;
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.#failure ??= { error };
      })
      .finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
    if (this.#failure) throw this.#failure.error;
  }
}
