/**
 * The flows of one timeout class, ordered for expiry: a binary min-heap keyed by the time (and
 * frame) at which each flow was queued or last requeued. A flow's packets do not touch the queue:
 * its key goes stale (lower than its real last activity) and is brought up to date only when the
 * flow reaches the top. Keys are never higher than the flow's lastTs, so every flow idle past a
 * limit is at or above the top while the top's key is below that limit: expiry stays exact.
 *
 * This replaced an intrusive LRU list that moved the flow to the tail on every packet, writing to
 * its two neighbours (flows that were usually out of cache) each time.
 */
import type { Flow } from './flow.js';

export class IdleQueue {
  private readonly items: Flow[] = [];

  /** The flow with the lowest key, or null. */
  top(): Flow | null {
    return this.items.length > 0 ? this.items[0] : null;
  }

  /** Queues a flow keyed by its current lastTs and lastFrame. */
  push(flow: Flow): void {
    flow.queuedTs = flow.lastTs;
    flow.queuedFrame = flow.lastFrame;
    flow.queueIndex = this.items.length;
    this.items.push(flow);
    this.siftUp(flow.queueIndex);
  }

  /** Takes the top flow off the queue. */
  pop(): Flow {
    const top = this.items[0];
    this.removeAt(0);
    return top;
  }

  /** Takes a flow off the queue, wherever it is. */
  remove(flow: Flow): void {
    if (flow.queueIndex >= 0) this.removeAt(flow.queueIndex);
  }

  /** The top flow was active since it was queued: key it by its latest packet and let it sink. */
  refreshTop(): void {
    const top = this.items[0];
    top.queuedTs = top.lastTs;
    top.queuedFrame = top.lastFrame;
    this.siftDown(0);
  }

  /** Every queued flow, in no particular order. */
  flows(): readonly Flow[] {
    return this.items;
  }

  private removeAt(i: number): void {
    const items = this.items;
    items[i].queueIndex = -1;
    const last = items.pop() as Flow;
    if (i === items.length) return;
    items[i] = last;
    last.queueIndex = i;
    this.siftDown(i);
    this.siftUp(last.queueIndex);
  }

  private siftUp(i: number): void {
    const items = this.items;
    const flow = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(flow, items[parent])) break;
      items[i] = items[parent];
      items[i].queueIndex = i;
      i = parent;
    }
    items[i] = flow;
    flow.queueIndex = i;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const flow = items[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(items[right], items[left]) ? right : left;
      if (!before(items[child], flow)) break;
      items[i] = items[child];
      items[i].queueIndex = i;
      i = child;
    }
    items[i] = flow;
    flow.queueIndex = i;
  }
}

/** Queue order: earlier queued time first, then the earlier frame (the order packets came in). */
function before(a: Flow, b: Flow): boolean {
  return a.queuedTs < b.queuedTs || (a.queuedTs === b.queuedTs && a.queuedFrame < b.queuedFrame);
}
