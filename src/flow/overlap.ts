/**
 * Several inputs read as one capture are meant to be one capture cut in pieces (the files of a
 * tcpdump ring buffer: one after the other in time). Two captures of the same traffic taken at
 * two points of its path (the client's side and the server's side of a firewall) are not: read
 * as one, every flow seen at both points is one flow with twice its packets, and every count of
 * the report doubles without a word. Such inputs cover the same time and the same hosts; this
 * finds them, so that `analyze` can say so and point at `compare`.
 */
import type { InputSpan } from './read.js';
import type { FlowRecord } from './record.js';

/** Flow records looked at (the first ones): enough to see shared hosts, bounded memory. */
const MAX_SAMPLED = 20_000;
/** Inputs overlap when they share at least this part of the shorter one's time span. */
const MIN_SHARED_PART = 0.5;

export interface InputOverlap {
  a: string;
  b: string;
  /** Seconds both inputs cover. */
  seconds: number;
  /** Addresses seen in flows of both inputs. */
  shared_hosts: number;
}

interface Sample {
  orig: string;
  resp: string;
  first: number;
  last: number;
}

export class OverlapEvidence {
  private readonly samples: Sample[] = [];

  add(rec: FlowRecord): void {
    if (this.samples.length >= MAX_SAMPLED) return;
    this.samples.push({ orig: rec.orig_h, resp: rec.resp_h, first: rec.first_frame, last: rec.last_frame });
  }

  /** Pairs of inputs that cover the same time and share hosts. */
  overlaps(spans: readonly InputSpan[]): InputOverlap[] {
    if (spans.length < 2) return [];
    const inputOf = (frame: number): number => {
      let i = spans.length - 1;
      while (i > 0 && frame < spans[i].firstFrame) i--;
      return i;
    };
    // Each address → the inputs its flows had packets in (a flow's first and last frame).
    const hosts = spans.map(() => new Set<string>());
    for (const s of this.samples)
      for (const i of new Set([inputOf(s.first), inputOf(s.last)])) {
        hosts[i].add(s.orig);
        hosts[i].add(s.resp);
      }
    const out: InputOverlap[] = [];
    for (let i = 0; i < spans.length; i++)
      for (let j = i + 1; j < spans.length; j++) {
        const a = spans[i];
        const b = spans[j];
        if (a.first === null || a.last === null || b.first === null || b.last === null) continue;
        const seconds = Math.min(a.last, b.last) - Math.max(a.first, b.first);
        const shorter = Math.min(a.last - a.first, b.last - b.first);
        if (seconds <= 0 || seconds < MIN_SHARED_PART * shorter) continue;
        let shared = 0;
        for (const h of hosts[i]) if (hosts[j].has(h)) shared++;
        if (shared > 0) out.push({ a: a.name, b: b.name, seconds, shared_hosts: shared });
      }
    return out;
  }
}

/** The note `analyze` prints for overlapping inputs. */
export function overlapNote(o: InputOverlap): string {
  const secs = o.seconds < 10 ? o.seconds.toFixed(1) : String(Math.round(o.seconds));
  return (
    `${o.a} and ${o.b} cover the same ${secs} s and share ${o.shared_hosts} host${o.shared_hosts === 1 ? '' : 's'}: ` +
    'they look like two captures of the same traffic (two points of its path), and read as one capture every flow seen in both is counted twice; ' +
    `compare them instead: lync-port-audit compare ${o.a} ${o.b}`
  );
}
