/**
 * The recogniser fault boundary's records. A recogniser is code over hostile bytes: whatever it
 * throws (a parser's bug, an SDP shape nobody expected) costs that flow's application details and
 * nothing else. app-observer.ts catches it, stops that recogniser for that flow, and reports it
 * here once per flow and recogniser; the capture reads on and the exit status stays 0 (a warning,
 * not an input error). The reader's own "unexpected failure" stays for faults in the reader.
 */
import type { Flow } from '../flow/flow.js';
import { protoName } from '../flow/record.js';
import { addressString } from '../flow/table.js';
import { shortString } from './text.js';
import type { AppName } from './types.js';

/** Where in the recogniser's life the fault happened. */
export type FaultStage = 'detect' | 'start' | 'feed' | 'finish' | 'observer' | 'cross-flow';

export interface RecognizerFault {
  /** The recogniser that failed (its app name), or the cross-flow step's name. */
  recognizer: AppName | 'calls' | 'rpc-links';
  stage: FaultStage;
  /** Frame number of the packet being handled (the flow's last frame for `finish`; 0 for cross-flow steps). */
  frame: number;
  /** The flow, as "udp 10.0.0.1:5060 > 10.0.0.2:5060" (empty for cross-flow steps). */
  flow: string;
  /** The error's message, bounded and with control characters escaped (it may quote packet text). */
  message: string;
}

/** Faults counted over a run, and the first ones in full (the warnings printed). */
export interface RecognizerFaults {
  count: number;
  first: RecognizerFault[];
}

/** Faults kept in full for the warnings; the rest are counted. */
export const MAX_FAULTS_LISTED = 20;

/** How an administrator calls each recogniser's protocol in a warning. */
const DISPLAY: Record<RecognizerFault['recognizer'], string> = {
  tls: 'TLS',
  'ms-turn-tcp': 'MS-TURN over TCP',
  psom: 'PSOM',
  sip: 'SIP',
  stun: 'STUN',
  rtp: 'media (RTP/RTCP/STUN)',
  rtcp: 'RTCP',
  dhcp: 'DHCP',
  http: 'HTTP',
  dcerpc: 'DCE/RPC',
  smb: 'SMB',
  unknown: 'payload',
  calls: 'call view',
  'rpc-links': 'DCE/RPC link',
};

export function emptyFaults(): RecognizerFaults {
  return { count: 0, first: [] };
}

export function addFault(faults: RecognizerFaults, fault: RecognizerFault): void {
  faults.count++;
  if (faults.first.length < MAX_FAULTS_LISTED) faults.first.push(fault);
}

/** The message of whatever was thrown, bounded (an Error's message, or the thrown value as text). */
export function faultMessage(err: unknown): string {
  let text: string;
  try {
    text = err instanceof Error ? err.message : String(err);
  } catch {
    text = 'a value that cannot be printed was thrown';
  }
  return shortString(text, 200);
}

function endpoint(version: number, e: Flow['orig']): string {
  const host = addressString(version, e.a0, e.a1, e.a2, e.a3);
  return version === 4 ? `${host}:${e.port}` : `[${host}]:${e.port}`;
}

/** "udp 10.0.0.1:5060 > 10.0.0.2:5060": the flow a warning names. */
export function flowName(flow: Flow): string {
  return `${protoName(flow.proto)} ${endpoint(flow.ipVersion, flow.orig)} > ${endpoint(flow.ipVersion, flow.resp)}`;
}

/** The warning line: "SIP recogniser failed on frame 2 (udp ...): <message>; this flow's SIP details are incomplete". */
export function faultWarning(f: RecognizerFault): string {
  const name = DISPLAY[f.recognizer];
  if (f.stage === 'cross-flow') return `${name} failed: ${f.message}; its results are incomplete`;
  return (
    `${name} recogniser failed on frame ${f.frame} (${f.flow}): ${f.message}; ` +
    `this flow's ${name} details are incomplete`
  );
}

/** The summary's lines for the faults of a run: one warning each for the first ones, then a count. */
export function faultLines(faults: RecognizerFaults | undefined): string[] {
  if (faults === undefined || faults.count === 0) return [];
  const lines = faults.first.map((f) => `warning: ${faultWarning(f)}`);
  if (faults.count > faults.first.length)
    lines.push(`warning: ${faults.count - faults.first.length} more recogniser faults like these`);
  return lines;
}
