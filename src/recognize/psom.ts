/**
 * PSOM ([MS-PSOM], the Persistent Shared Object Model used for Lync web conferencing data) always
 * travels inside TLS, so its own bytes are never visible. It is recognised by port plus TLS: a TLS
 * session whose server port is 8057 or 8058, the Front End's "TLS PSOM" ports, 8057 also on the
 * Edge's internal side (../shared/research/microsoft-ports.md sections 1 and 3). The
 * Web Conferencing Edge's external 443 carries PSOM too, but so does every HTTPS service on 443,
 * so 443 stays plain `tls`.
 *
 * Everything TLS says (SNI, versions, alerts, failed handshakes) comes from tls.ts; the detail
 * says `identified_by: "port+tls"` so nobody mistakes the label for a payload match.
 */
import { feedTls, finishTls, startTls, tlsScore, type TlsState } from './tls.js';
import type { AppResult, FlowEnd, PacketContext, Payload, Recognizer } from './types.js';

export const PSOM_PORTS: readonly number[] = [8057, 8058];

/** The PSOM server port of the flow, or 0. The responder's port first: clients connect to it. */
function psomPort(origPort: number, respPort: number): number {
  if (PSOM_PORTS.includes(respPort)) return respPort;
  if (PSOM_PORTS.includes(origPort)) return origPort;
  return 0;
}

export const psom: Recognizer<TlsState> = {
  app: 'psom',
  transports: ['tcp'],

  detect(p: Payload, ctx: PacketContext): number {
    if (psomPort(ctx.origPort, ctx.respPort) === 0) return 0;
    const score = tlsScore(p);
    // Just above what plain TLS claims for the same bytes, so that the port decides.
    return score >= 0.5 ? Math.min(0.96, score + 0.03) : 0;
  },

  start: startTls,
  feed: feedTls,

  finish(s: TlsState, end: FlowEnd): AppResult {
    const r = finishTls(s, end, 'PSOM (TLS)');
    if (r.app !== 'tls') return r;
    const port = psomPort(end.origPort, end.respPort);
    return {
      app: 'psom',
      confidence: Math.min(r.confidence, 0.85),
      detail: { identified_by: 'port+tls', port, ...r.detail },
      findings: r.findings,
    };
  },
};
