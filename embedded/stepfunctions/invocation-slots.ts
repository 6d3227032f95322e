/**
 * Lambda's concurrency limit, scaled to one process: at most N handlers at once, the rest queued
 * by execution start. Its own file: it needs nothing of the engine but a number to order by.
 */

/**
 * Runs `fn` when fewer than `limit()` functions run; an attempt ended while it waited
 * never runs. Waiting attempts go in the order their executions started, so an execution
 * that got a slot keeps going: with 10,000 journeys, the first approval email goes out
 * after the first journey's few tasks, not after every journey's first task has had its
 * turn.
 */
export class InvocationSlots {
  /** Lambda handlers running now, and the attempts waiting for one to finish. */
  private invocations = 0;
  private readonly queue = new SlotQueue();

  constructor(private readonly limit: () => number) {}

  /** `order` is the execution's number (earlier first); `skip` is asked once the slot is had. */
  async run(order: number, skip: () => boolean, fn: () => Promise<void>): Promise<void> {
    if (this.invocations >= this.limit()) await new Promise<void>((resolve) => this.queue.push(order, resolve));
    else this.invocations += 1;
    try {
      if (!skip()) await fn();
    } finally {
      // A turn of the event loop first, for the execution to ask for its next task; then
      // the slot passes straight to the first in line, so the count stays right.
      setImmediate(() => {
        const next = this.queue.shift();
        if (next) next();
        else this.invocations -= 1;
      });
    }
  }
}

/** Waiting invocations, the earliest-started execution first (then first come, first served): a binary heap. */
class SlotQueue {
  private readonly heap: { n: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;

  push(n: number, resolve: () => void): void {
    const heap = this.heap;
    heap.push({ n, seq: this.seq++, resolve });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Calls the first waiter's resolve; undefined when nobody waits. */
  shift(): (() => void) | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (!top) return undefined;
    const last = heap.pop() as (typeof heap)[number];
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let first = i;
        if (l < heap.length && this.before(l, first)) first = l;
        if (r < heap.length && this.before(r, first)) first = r;
        if (first === i) break;
        this.swap(i, first);
        i = first;
      }
    }
    return top.resolve;
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a] as { n: number; seq: number };
    const y = this.heap[b] as { n: number; seq: number };
    return x.n < y.n || (x.n === y.n && x.seq < y.seq);
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    [heap[a], heap[b]] = [heap[b] as (typeof heap)[number], heap[a] as (typeof heap)[number]];
  }
}
