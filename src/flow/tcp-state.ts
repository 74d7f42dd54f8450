/**
 * Zeek's TCP connection tracking, ported from TCPSessionAdapter::Process and its
 * UpdateStateMachine (zeek/src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc) so that
 * conn_state and history mean exactly what analysts who read Zeek's conn.log expect.
 * Not ported: checksum validation ('C'), content gaps from reassembly ('G'), window scaling.
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type PacketView } from '../decode/view.js';
import { TcpState, flipFlow, type Flow, type FlowEndpoint } from './flow.js';

/** History bits (Zeek TCP_Endpoint.h HIST_*). */
const HIST_SYN = 0x1;
const HIST_FIN = 0x2;
const HIST_RST = 0x4;
const HIST_FIN_RST = 0x8;
const HIST_ACK = 0x10;
const HIST_DATA = 0x20;
const HIST_MULTI_FLAG = 0x100;

const TOO_LARGE_SEQ_DELTA = 1048576;

/** Signed 32-bit difference a - b in sequence space. */
function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

function addHistory(flow: Flow, ep: FlowEndpoint, code: string): void {
  flow.history += ep === flow.orig ? code : code.toLowerCase();
}

/** Zeek's CheckHistory: records the letter the first time; returns true when it was already seen. */
function checkHistory(flow: Flow, ep: FlowEndpoint, bit: number, code: string): boolean {
  if ((ep.histSeen & bit) === 0) {
    ep.histSeen |= bit;
    addHistory(flow, ep, code);
    return false;
  }
  return true;
}

function updateHistory(flow: Flow, ep: FlowEndpoint, flags: number, relSeq: number, len: number): void {
  const syn = (flags & TCP_SYN) !== 0;
  const fin = (flags & TCP_FIN) !== 0;
  const rst = (flags & TCP_RST) !== 0;
  const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
  if (bits > 1) {
    if (fin && rst) checkHistory(flow, ep, HIST_FIN_RST, 'I');
    else checkHistory(flow, ep, HIST_MULTI_FLAG, 'Q');
  } else if (bits === 1) {
    if (syn) {
      const code = flags & TCP_ACK ? 'H' : 'S';
      if (checkHistory(flow, ep, HIST_SYN, code) && relSeq !== ep.histLastSyn) addHistory(flow, ep, code);
      ep.histLastSyn = relSeq;
    }
    if (fin) {
      if (checkHistory(flow, ep, HIST_FIN, 'F') && relSeq + len !== ep.histLastFin) addHistory(flow, ep, 'F');
      ep.histLastFin = relSeq + len;
    }
    if (rst) {
      if (checkHistory(flow, ep, HIST_RST, 'R') && relSeq !== ep.histLastRst) addHistory(flow, ep, 'R');
      ep.histLastRst = relSeq;
    }
  } else if (len > 0) {
    checkHistory(flow, ep, HIST_DATA, 'D');
  } else if (flags & TCP_ACK) {
    checkHistory(flow, ep, HIST_ACK, 'A');
  }
}

function initSeqs(ep: FlowEndpoint, start: number, last: number): void {
  ep.startSeq = start >>> 0;
  ep.ackSeq = start >>> 0;
  ep.ackRel = 0;
  ep.lastSeq = last >>> 0;
  ep.lastRel = seqDelta(last, start);
}

function initEndpoint(ep: FlowEndpoint, flags: number, seq: number, lastSeq: number): void {
  const syn = (flags & TCP_SYN) !== 0;
  switch (ep.state) {
    case TcpState.Inactive:
      if (syn) initSeqs(ep, seq, lastSeq);
      // A partial connection: number as though a SYN had been seen, so relative numbering stays consistent.
      else initSeqs(ep, seq - 1, seq);
      break;
    case TcpState.SynSent:
    case TcpState.SynAckSent:
    case TcpState.Established:
    case TcpState.Partial:
      if (syn && seq >>> 0 !== ep.startSeq) initSeqs(ep, seq, lastSeq);
      break;
    case TcpState.Reset:
      if (syn && ep.prevState === TcpState.Inactive) initSeqs(ep, seq, lastSeq);
      break;
    default:
      break;
  }
}

function setState(ep: FlowEndpoint, state: TcpState): void {
  ep.prevState = ep.state;
  ep.state = state;
}

/** Zeek's ScaledHistoryEntry: the letter again at 1, 10, 100, ... occurrences. */
function didRetransmit(flow: Flow, ep: FlowEndpoint): void {
  if (++ep.rxmit === ep.rxmitThreshold) {
    addHistory(flow, ep, 'T');
    ep.rxmitThreshold *= 10;
  }
}

function zeroWindow(flow: Flow, ep: FlowEndpoint): void {
  if (++ep.zeroWindow === ep.zeroWindowThreshold) {
    addHistory(flow, ep, 'W');
    ep.zeroWindowThreshold *= 10;
  }
}

/**
 * Updates the flow for one TCP segment. `fromOrig` says which endpoint sent it.
 * `len` is the TCP payload length on the wire.
 */
export function updateTcp(flow: Flow, fromOrig: boolean, view: PacketView): void {
  // Sequence numbers exceed V8's small integers: read from the view, not passed as arguments (boxed).
  const flags = view.tcpFlags;
  const seq = view.tcpSeq;
  const ack = view.tcpAck;
  const window = view.tcpWindow;
  const len = view.payloadLength;
  const endpoint = fromOrig ? flow.orig : flow.resp;
  const peer = fromOrig ? flow.resp : flow.orig;
  const syn = (flags & TCP_SYN) !== 0;
  const fin = (flags & TCP_FIN) !== 0;
  const rst = (flags & TCP_RST) !== 0;
  const hasAck = (flags & TCP_ACK) !== 0;

  let segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0);
  if (rst) segLen -= len;
  const seqEnd = (seq + segLen) >>> 0;

  initEndpoint(endpoint, flags, seq, seqEnd);
  const relSeq = endpoint.lastRel + seqDelta(seq, endpoint.lastSeq);

  updateHistory(flow, endpoint, flags, relSeq, len);

  if (window === 0 && !rst && peer.state !== TcpState.Closed && endpoint.state !== TcpState.Reset)
    zeroWindow(flow, endpoint);

  if (fin) endpoint.finCount++;

  if (hasAck) {
    if (peer.state === TcpState.Inactive) {
      // Start the peer's numbering as if its SYN had been seen (Zeek init_peer).
      initSeqs(peer, ack - 1, ack - 1);
    } else if (!rst) {
      const deltaAck = seqDelta(ack, peer.ackSeq);
      if (!(ack === 0 && deltaAck > TOO_LARGE_SEQ_DELTA) && deltaAck > 0) {
        peer.ackSeq = ack >>> 0;
        peer.ackRel += deltaAck;
      }
    }
  }

  // Zeek update_last_seq.
  const deltaLast = seqDelta(seqEnd, endpoint.lastSeq);
  if ((syn || rst) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
    // Do not trust far jumps on SYN or RST.
  } else if (fin && endpoint.lastRel === 1) {
    endpoint.lastRel += deltaLast;
    endpoint.lastSeq = seqEnd;
  } else if (endpoint.state === TcpState.Reset) {
    // Nothing after a reset is trusted.
  } else if (deltaLast > 0) {
    endpoint.lastRel += deltaLast;
    endpoint.lastSeq = seqEnd;
  } else if (len > 0) {
    didRetransmit(flow, endpoint);
  }

  // Zeek UpdateStateMachine.
  switch (endpoint.state) {
    case TcpState.Inactive: {
      if (syn) {
        if (fromOrig) {
          setState(endpoint, hasAck ? TcpState.SynAckSent : TcpState.SynSent);
        } else {
          if (!hasAck && peer.state === TcpState.SynAckSent && seq >>> 0 === endpoint.startSeq) {
            // SYN/SYN-ACK reversal: the "originator" sent the SYN-ACK. Flip the roles.
            flipFlow(flow);
            flow.history += '^';
            setState(peer, TcpState.Established);
          }
          if (peer.state === TcpState.SynSent) setState(peer, TcpState.Established);
          setState(endpoint, TcpState.Established);
        }
      }
      if (fin) setState(endpoint, TcpState.Closed);
      if (rst) setState(endpoint, TcpState.Reset);
      if (endpoint.state === TcpState.Inactive) {
        if (!fromOrig && len === 0 && flow.orig.state === TcpState.SynSent) {
          // Some stacks ACK a SYN before answering with SYN-ACK: not a partial connection.
        } else if (hasAck && peer.state === TcpState.Established) {
          setState(endpoint, TcpState.Established);
        } else {
          setState(endpoint, TcpState.Partial);
        }
      }
      break;
    }
    case TcpState.SynSent:
    case TcpState.SynAckSent:
      if (fin) setState(endpoint, TcpState.Closed);
      if (rst) setState(endpoint, TcpState.Reset);
      break;
    case TcpState.Established:
    case TcpState.Partial:
      if (syn && endpoint.state === TcpState.Partial && peer.state === TcpState.Inactive && !hasAck)
        setState(endpoint, TcpState.SynSent);
      if (fin && !rst) {
        setState(endpoint, TcpState.Closed);
        // A FIN after the peer's FIN+RST: that was a normal close after all.
        if (peer.state === TcpState.Reset && peer.prevState === TcpState.Closed)
          setState(peer, TcpState.Closed);
      }
      if (rst) setState(endpoint, TcpState.Reset);
      break;
    case TcpState.Closed:
      if (rst && peer.state !== TcpState.Closed) setState(endpoint, TcpState.Reset);
      break;
    default:
      break;
  }
}

/** Zeek's TCP_Endpoint::Size(): payload bytes from sequence numbers, not counting SYN and FIN. */
export function tcpPayloadSize(ep: FlowEndpoint, peer: FlowEndpoint): number {
  if (ep.prevState === TcpState.SynSent && ep.state === TcpState.Reset && peer.state === TcpState.Inactive)
    return 0;
  let size = ep.lastRel > ep.ackRel ? ep.lastRel : ep.ackRel;
  if (size > 0) size--;
  if (ep.finCount > 0 && size > 0) size--;
  return size;
}

/** Both sides finished (FIN each way, or a reset): the flow can be written out after a short linger. */
export function tcpFinished(flow: Flow): boolean {
  const o = flow.orig.state;
  const r = flow.resp.state;
  return o === TcpState.Reset || r === TcpState.Reset || (o === TcpState.Closed && r === TcpState.Closed);
}
