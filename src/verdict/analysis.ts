/** The result of `analyze`: what every report format renders. */
import type { Call } from '../recognize/calls.js';
import type { RoleEvidence } from '../topology/topology.js';
import type { RoleSummary } from './roles.js';
import type { JudgedFlow, Verdict } from './types.js';

export interface CaptureInfo {
  name: string;
  format: string;
  packets: number;
  error?: string;
  /** The read was stopped before the end of this capture (Ctrl-C); the captures after it were not read. */
  stopped?: boolean;
  warnings: number;
}

export interface AnalysisSummary {
  tool: { name: string; version: string };
  captures: CaptureInfo[];
  /** True when the read was stopped before the end of the input (Ctrl-C): the first note says where. */
  partial?: boolean;
  packets: number;
  /** Exact duplicate frames dropped (counted in `packets`, in no flow). */
  duplicates_dropped?: number;
  flows: number;
  /** Capture time span (seconds since the epoch) of the flows seen. */
  first_ts: number | null;
  last_ts: number | null;
  catalog: { product: string; title: string };
  topology: {
    source: string;
    /** role → addresses or CIDR blocks as given (or inferred). */
    roles: Record<string, string[]>;
    inferred: RoleEvidence[];
  };
  /**
   * Flows held against the catalog (every verdict but `outside`). 0 means nothing was judged: the
   * reports then say so and what to do, never an all-clear.
   */
  judged: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** Flows whose verdict is a problem (blocked, refused, filtered, one-way, failed, unexpected, mismatch). */
  problems: number;
  /**
   * Faults of recognisers (each cost one flow's application details, named in a note and on
   * stderr) and of cross-flow steps. Absent in summaries written before it was counted.
   */
  recognizer_faults?: number;
  /** Evictions, unreadable input, and other caveats a reader should know. */
  notes: string[];
}

export interface Analysis {
  summary: AnalysisSummary;
  roles: RoleSummary[];
  /** The call view: SIP dialogs, the media they negotiated, whether it flowed. */
  calls: Call[];
  flows: JudgedFlow[];
}
