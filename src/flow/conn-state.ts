/**
 * Zeek's conn_state (base/protocols/conn/main.zeek, function conn_state), computed from the
 * endpoint states that tcp-state.ts keeps. The letters are the ones analysts already read:
 *   S0 attempt, no reply; S1 established; SF normal close; REJ rejected; S2/S3 half-closed;
 *   RSTO/RSTR reset by originator/responder; RSTOS0 originator SYN then RST; RSTRH responder
 *   SYN-ACK then RST; SH/SHR half-open close; OTH no SYN seen (mid-stream).
 * UDP: S0 (originator only), SF (both directions), SHR (responder only), OTH.
 */
import { IPPROTO_TCP, IPPROTO_UDP } from '../decode/view.js';
import { TcpState, type Flow } from './flow.js';
import { tcpPayloadSize } from './tcp-state.js';

export type ConnState =
  'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH';

/** Zeek's /^\^?S[^HAFGIQ]*R.*$/ on the history, without a regular expression. */
function synThenResetOnly(history: string): boolean {
  let i = 0;
  if (history[i] === '^') i++;
  if (history[i] !== 'S') return false;
  for (i++; i < history.length; i++) {
    const c = history[i];
    if (c === 'R') return true;
    if (c === 'H' || c === 'A' || c === 'F' || c === 'G' || c === 'I' || c === 'Q') return false;
  }
  return false;
}

export function connState(flow: Flow): ConnState {
  if (flow.proto === IPPROTO_TCP) {
    const os = flow.orig.state;
    const rs = flow.resp.state;
    const oInactive = os === TcpState.Inactive || os === TcpState.Partial;
    const rInactive = rs === TcpState.Inactive || rs === TcpState.Partial;
    if (rs === TcpState.Reset) {
      if (
        os === TcpState.SynSent ||
        os === TcpState.SynAckSent ||
        (os === TcpState.Reset &&
          tcpPayloadSize(flow.orig, flow.resp) === 0 &&
          tcpPayloadSize(flow.resp, flow.orig) === 0)
      )
        return 'REJ';
      return oInactive ? 'RSTRH' : 'RSTR';
    }
    if (os === TcpState.Reset) {
      if (rInactive) return synThenResetOnly(flow.history) ? 'RSTOS0' : 'OTH';
      return 'RSTO';
    }
    if (rs === TcpState.Closed && os === TcpState.Closed) return 'SF';
    if (os === TcpState.Closed) return rInactive ? 'SH' : 'S2';
    if (rs === TcpState.Closed) return oInactive ? 'SHR' : 'S3';
    if (os === TcpState.SynSent && rs === TcpState.Inactive) return 'S0';
    if (os === TcpState.Established && rs === TcpState.Established) return 'S1';
    return 'OTH';
  }
  if (flow.proto === IPPROTO_UDP) {
    const o = flow.orig.pkts > 0;
    const r = flow.resp.pkts > 0;
    if (o) return r ? 'SF' : 'S0';
    return r ? 'SHR' : 'OTH';
  }
  return 'OTH';
}
