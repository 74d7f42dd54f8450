/**
 * Does what a flow carries fit what the catalog row says the port is for? The catalog's protocol
 * labels name the expected application protocol; the recognize stage names what was seen.
 * A clear misfit (plaintext SIP on 5061, HTTP on 443, TLS where SMB belongs) is the `mismatch`
 * verdict. Unknown payloads never make a mismatch: encrypted or unrecognised is not evidence.
 */

/** For each catalog protocol label, the recognized apps that fit it. */
const FITS: Record<string, readonly string[]> = {
  sip: ['sip', 'tls'],
  'sip-tls': ['tls'],
  'sip-mtls': ['tls'],
  'psom-tls': ['tls', 'psom'],
  psom: ['tls', 'psom'],
  https: ['tls', 'psom', 'ms-turn-tcp'],
  http: ['http'],
  'http-or-https': ['http', 'tls'],
  'dcom-rpc': ['dcerpc'],
  smb: ['smb'],
  dhcp: ['dhcp'],
  // Over TCP 443 MS-TURN opens with a fixed fake TLS 1.0 hello, which ms-turn-tcp.ts claims; a
  // real TLS handshake there is SIP or PSOM, not the A/V Edge (research notes section 3).
  'stun-msturn': ['stun', 'rtp', 'rtcp', 'ms-turn-tcp'],
  'rtp-media': ['rtp', 'rtcp', 'stun', 'tls', 'ms-turn-tcp'],
  'rtp-tcp': ['rtp', 'rtcp', 'stun', 'tls', 'ms-turn-tcp'],
  'app-sharing': ['rtp', 'rtcp', 'stun', 'tls', 'ms-turn-tcp'],
  'file-transfer': ['tls', 'rtp', 'stun'],
  // Rows of the later catalogs (Lync 2013, Skype for Business, Teams, OCS 2007 R2).
  'psom-mtls': ['tls', 'psom'],
  mtls: ['tls'],
  xmpp: ['tls'],
  'xmpp-mtls': ['tls'],
  msmq: [],
  'sql-browser': [],
  dns: [],
  // The sources name no protocol (the Bandwidth Policy Service's 5080 and 448): nothing seen there is a misfit.
  tcp: ['tls', 'ms-turn-tcp', 'psom', 'sip', 'stun', 'rtp', 'rtcp', 'http', 'dcerpc', 'smb'],
};

/** The catalog protocol labels this table knows (a test holds every catalog row's label against it). */
export const FIT_LABELS: ReadonlySet<string> = new Set(Object.keys(FITS));

/** Below this confidence a recognized app is not trusted enough to call a mismatch. */
export const MISMATCH_CONFIDENCE = 0.8;

export type Fit = 'yes' | 'no' | 'unknown';

export function protocolFit(
  rowProtocol: string,
  app: string | undefined,
  confidence: number | undefined,
): Fit {
  if (app === undefined || app === 'unknown') return 'unknown';
  const accepted = FITS[rowProtocol] ?? FITS[rowProtocol.split('/')[0]];
  if (accepted === undefined) return 'unknown';
  if (accepted.includes(app)) return 'yes';
  return (confidence ?? 0) >= MISMATCH_CONFIDENCE ? 'no' : 'unknown';
}
