/**
 * The flows of one timeout class, ordered for expiry: a binary min-heap of table slots keyed by
 * the time (and frame) at which each flow was queued or last requeued, read from the store
 * (store.ts). A flow's packets do not touch the queue: its key goes stale (lower than its real
 * last activity) and is brought up to date only when the flow reaches the top. Keys are never
 * higher than the flow's lastTs, so every flow idle past a limit is at or above the top while the
 * top's key is below that limit: expiry stays exact.
 *
 * This replaced an intrusive LRU list that moved the flow to the tail on every packet, writing to
 * its two neighbours (flows that were usually out of cache) each time.
 */
import { FL_F, FL_I, type FlowRows } from './store.js';

export class IdleQueue {
  private readonly items: number[] = [];

  constructor(private readonly rows: FlowRows) {}

  /** The slot with the lowest key, or -1. */
  top(): number {
    return this.items.length > 0 ? this.items[0] : -1;
  }

  /** Queues a flow keyed by its current lastTs and lastFrame. */
  push(slot: number): void {
    const rows = this.rows;
    rows.setFlF(slot, FL_F.QUEUED_TS, rows.flF(slot, FL_F.LAST_TS));
    rows.setFlF(slot, FL_F.QUEUED_FRAME, rows.flF(slot, FL_F.LAST_FRAME));
    this.items.push(slot);
    this.siftUp(this.items.length - 1);
  }

  /** Takes the top flow off the queue. */
  pop(): number {
    const top = this.items[0];
    this.removeAt(0);
    return top;
  }

  /** Takes a flow off the queue, wherever it is. */
  remove(slot: number): void {
    const i = this.rows.flI(slot, FL_I.QUEUE_INDEX);
    if (i >= 0) this.removeAt(i);
  }

  /** The top flow was active since it was queued: key it by its latest packet and let it sink. */
  refreshTop(): void {
    const rows = this.rows;
    const top = this.items[0];
    rows.setFlF(top, FL_F.QUEUED_TS, rows.flF(top, FL_F.LAST_TS));
    rows.setFlF(top, FL_F.QUEUED_FRAME, rows.flF(top, FL_F.LAST_FRAME));
    this.siftDown(0);
  }

  /** Every queued slot, in no particular order. */
  slots(): readonly number[] {
    return this.items;
  }

  private removeAt(i: number): void {
    const items = this.items;
    this.rows.setFlI(items[i], FL_I.QUEUE_INDEX, -1);
    const last = items.pop() as number;
    if (i === items.length) return;
    items[i] = last;
    this.rows.setFlI(last, FL_I.QUEUE_INDEX, i);
    this.siftDown(i);
    this.siftUp(this.rows.flI(last, FL_I.QUEUE_INDEX));
  }

  private siftUp(i: number): void {
    const items = this.items;
    const rows = this.rows;
    const slot = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(slot, items[parent])) break;
      items[i] = items[parent];
      rows.setFlI(items[i], FL_I.QUEUE_INDEX, i);
      i = parent;
    }
    items[i] = slot;
    rows.setFlI(slot, FL_I.QUEUE_INDEX, i);
  }

  private siftDown(i: number): void {
    const items = this.items;
    const rows = this.rows;
    const n = items.length;
    const slot = items[i];
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.before(items[right], items[left]) ? right : left;
      if (!this.before(items[child], slot)) break;
      items[i] = items[child];
      rows.setFlI(items[i], FL_I.QUEUE_INDEX, i);
      i = child;
    }
    items[i] = slot;
    rows.setFlI(slot, FL_I.QUEUE_INDEX, i);
  }

  /** Queue order: earlier queued time first, then the earlier frame (the order packets came in). */
  private before(a: number, b: number): boolean {
    const rows = this.rows;
    const ta = rows.flF(a, FL_F.QUEUED_TS);
    const tb = rows.flF(b, FL_F.QUEUED_TS);
    return ta < tb || (ta === tb && rows.flF(a, FL_F.QUEUED_FRAME) < rows.flF(b, FL_F.QUEUED_FRAME));
  }
}
