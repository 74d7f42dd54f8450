/**
 * The recognize stage: what a flow really carries, from its payload, independent of its ports.
 * Every protocol is one Recognizer in its own file. The framework (app-observer.ts) offers each
 * new flow's first payloads to every recognizer's `detect`, gives the flow to the most confident
 * one, then feeds that one the flow's later payloads until it says it has seen enough.
 */

export type AppName =
  | 'tls'
  | 'ms-turn-tcp'
  | 'psom'
  | 'sip'
  | 'stun'
  | 'rtp'
  | 'rtcp'
  | 'dhcp'
  | 'http'
  | 'dcerpc'
  | 'smb'
  | 'unknown';

export type Severity = 'error' | 'warning' | 'info';

/** Something a protocol said that an administrator should know (a failed handshake, a 4xx, ...). */
export interface Finding {
  /** Stable identifier, e.g. 'tls-handshake-failed', 'sip-error-response', 'stun-no-response', 'rtp-one-way'. */
  kind: string;
  severity: Severity;
  /** One short sentence. It may contain text from packets: reports escape it when they render it. */
  message: string;
  ts?: number;
  detail?: Record<string, unknown>;
}

/** What the recognize stage says about one flow; goes into the flow record as app / app_detail / app_findings. */
export interface AppResult {
  app: AppName;
  /** 0..1: how sure the recognizer is (1: a parsed, self-consistent message; ~0.5: a plausible header). */
  confidence: number;
  detail: Record<string, unknown>;
  findings: Finding[];
}

/**
 * A view of payload bytes: `buf[offset, offset + length)`. It points into the capture reader's
 * buffer and is valid only during the call: copy what you keep (and keep little: work per flow is bounded).
 */
export interface Payload {
  buf: Buffer;
  offset: number;
  length: number;
}

export interface PacketContext {
  /** True when the originator sent this payload. */
  fromOrig: boolean;
  /** Capture time in seconds. */
  ts: number;
  transport: 'tcp' | 'udp';
  origPort: number;
  respPort: number;
  /**
   * TCP only: true when stream bytes are missing before this payload in this direction (capture loss,
   * or the capture started mid-stream); a stream parser should resynchronise.
   */
  gap: boolean;
}

export interface Recognizer<S = unknown> {
  readonly app: AppName;
  readonly transports: readonly ('tcp' | 'udp')[];
  /**
   * Confidence 0..1 that this payload is this protocol. Called with the first payloads of a flow
   * (for TCP: the in-order stream bytes of a segment). Must be cheap and must not allocate on
   * the "no" path. 0.5 or more claims the flow; the highest claim wins.
   */
  detect(p: Payload, ctx: PacketContext): number;
  /** Fresh per-flow state for a flow this recognizer claimed. */
  start(ctx: PacketContext): S;
  /**
   * The claiming payload and then every later payload of the flow (UDP datagrams; for TCP the
   * in-order new stream bytes of each segment, retransmitted bytes removed). Returns false when it
   * wants no more of this flow. Must keep its work and memory per flow bounded.
   */
  feed(state: S, p: Payload, ctx: PacketContext): boolean;
  /** The flow has ended: the result for its record. May return app 'unknown' if the evidence fell apart. */
  finish(state: S, end: FlowEnd): AppResult;
}

/** What a recognizer may want to know when the flow ends. */
export interface FlowEnd {
  origPkts: number;
  respPkts: number;
  /** Zeek conn_state of the flow (TCP handshake outcome), e.g. 'SF', 'RSTR', 'S1'. */
  connState: string;
  origPort: number;
  respPort: number;
  transport: 'tcp' | 'udp';
  /** Why the flow ended ('end-of-capture', 'timeout', 'closed', ...): a request cut off by the end of the capture is not a failure. */
  endReason?: 'end-of-capture' | 'timeout' | 'evicted' | 'reused' | 'closed';
  /** Capture time of the flow's last packet, in seconds. */
  lastTs?: number;
}
