/**
 * The discrete-event core: a binary min-heap of timed callbacks. Ties break by
 * insertion order, so a run is deterministic for a given seed.
 */

interface Entry {
  t: number;
  seq: number;
  fn: () => void;
}

export class EventQueue {
  private heap: Entry[] = [];
  private seq = 0;
  /** The time of the event being run (or the last time advanced to). */
  now: number;

  constructor(start: number) {
    this.now = start;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Run `fn` at time `t` (never earlier than now). */
  at(t: number, fn: () => void): void {
    const entry = { t: Math.max(t, this.now), seq: this.seq++, fn };
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(entry, heap[parent] as Entry)) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Run every event with time ≤ t, in order, then set now = t. */
  runUntil(t: number): void {
    const heap = this.heap;
    while (heap.length > 0 && (heap[0] as Entry).t <= t) {
      const top = this.pop();
      this.now = top.t;
      top.fn();
    }
    if (t > this.now) this.now = t;
  }

  private less(a: Entry, b: Entry): boolean {
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }

  private pop(): Entry {
    const heap = this.heap;
    const top = heap[0] as Entry;
    const last = heap.pop() as Entry;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let best = last;
        if (l < n && this.less(heap[l] as Entry, best)) {
          m = l;
          best = heap[l] as Entry;
        }
        if (r < n && this.less(heap[r] as Entry, best)) m = r;
        if (m === i) break;
        heap[i] = heap[m] as Entry;
        i = m;
      }
      heap[i] = last;
    }
    return top;
  }
}
