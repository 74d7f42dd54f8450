/**
 * Does the capture look like a port scan? One source trying many ports of one or more hosts, its
 * attempts mostly unanswered (S0) or refused (REJ), is a scanner (nmap's SYN scan, a vulnerability
 * scanner), not Lync traffic: the report says so in its notices, so that hundreds of "blocked"
 * and "unexpected" ports are read for what they are. Roles are inferred from answered traffic
 * only (topology/infer.ts), so a scan does not make its targets servers.
 * Streaming and bounded: per source, its attempts and at most MAX_PORTS distinct ports are kept,
 * for at most MAX_SOURCES sources.
 */
import type { FlowRecord } from '../flow/record.js';

/** Distinct ports from one source that make a scan (a Lync client uses a handful of server ports). */
export const SCAN_MIN_PORTS = 100;
/** Share of that source's TCP attempts that got no answer or a reset. */
export const SCAN_MIN_FAILED_SHARE = 0.8;
const MAX_PORTS = 1024;
const MAX_SOURCES = 10_000;
const MAX_TARGETS = 8;

interface SourceAcc {
  ports: Set<number>;
  targets: Set<string>;
  targetCount: number;
  attempts: number;
  failed: number;
}

/** Zeek states of a TCP attempt that no service answered: no reply, a reset, a SYN then a reset. */
const FAILED_ATTEMPT = new Set(['S0', 'REJ', 'RSTOS0', 'RSTRH', 'SH']);

export interface ScanNotice {
  source: string;
  /** Distinct destination ports (at least; counting stops at MAX_PORTS). */
  ports: number;
  ports_capped: boolean;
  targets: string[];
  target_count: number;
  attempts: number;
  failed: number;
}

export class ScanDetector {
  private readonly sources = new Map<string, SourceAcc>();

  add(rec: FlowRecord): void {
    if (rec.proto !== 'tcp') return;
    let s = this.sources.get(rec.orig_h);
    if (s === undefined) {
      if (this.sources.size >= MAX_SOURCES) return;
      s = { ports: new Set(), targets: new Set(), targetCount: 0, attempts: 0, failed: 0 };
      this.sources.set(rec.orig_h, s);
    }
    s.attempts++;
    if (FAILED_ATTEMPT.has(rec.conn_state)) s.failed++;
    if (s.ports.size < MAX_PORTS) s.ports.add(rec.resp_p);
    if (!s.targets.has(rec.resp_h)) {
      s.targetCount++;
      if (s.targets.size < MAX_TARGETS) s.targets.add(rec.resp_h);
    }
  }

  /** The sources that look like scanners, the busiest first. */
  scans(): ScanNotice[] {
    const out: ScanNotice[] = [];
    for (const [source, s] of this.sources)
      if (s.ports.size >= SCAN_MIN_PORTS && s.failed >= s.attempts * SCAN_MIN_FAILED_SHARE)
        out.push({
          source,
          ports: s.ports.size,
          ports_capped: s.ports.size >= MAX_PORTS,
          targets: [...s.targets],
          target_count: s.targetCount,
          attempts: s.attempts,
          failed: s.failed,
        });
    return out.sort((a, b) => b.attempts - a.attempts);
  }
}

/** The notice in words: "the capture looks like a port scan: 172.16.0.8 tried 1,000+ ports ...". */
export function scanNote(s: ScanNotice): string {
  const targets =
    s.target_count === 1
      ? s.targets[0]
      : `${s.target_count} hosts (${s.targets.slice(0, 3).join(', ')}${s.target_count > 3 ? ', ...' : ''})`;
  const share = Math.floor((100 * s.failed) / s.attempts);
  const n = (x: number): string => String(x).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (
    `the capture looks like a port scan: ${s.source} tried ${n(s.ports)}${s.ports_capped ? '+' : ''} TCP ports of ${targets} ` +
    `in ${n(s.attempts)} connection attempts, ${share}% unanswered or refused (S0/REJ); its blocked and unexpected ports are the scan's, and roles are inferred from answered traffic only`
  );
}
