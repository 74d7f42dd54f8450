/**
 * Did the application on top of the flow work? Read from the recognize stage's findings only: a
 * TLS alert is a certificate problem, not a firewall rule, so it is kept apart from what the wire
 * says (outcome.ts). One table says which findings mean "the protocol said no".
 */
import type { FlowRecord } from '../flow/record.js';
import type { AppOutcome } from './types.js';

type Finding = NonNullable<FlowRecord['app_findings']>[number];

/**
 * Finding kinds that mean the hosts talked and the application refused or failed, with the test
 * a finding of that kind must pass (routine answers such as a STUN 401 challenge are not failures).
 */
const FAILURES: Record<string, (f: Finding) => boolean> = {
  // A ClientHello answered by an alert, a reset, silence, or a handshake that stopped half way.
  'tls-handshake-failed': () => true,
  // The A/V Edge's pseudo-TLS hello over TCP 443 not answered as the Edge answers it.
  'ms-turn-tcp-handshake-failed': () => true,
  'dcerpc-bind-rejected': () => true,
  'dcerpc-fault': () => true,
  // The endpoint mapper has no endpoint for the interface: the service is not running.
  'dcerpc-epm-not-registered': () => true,
  // Refusals (access denied, logon failure, ...) are errors; other statuses are routine.
  'smb-error-status': (f) => f.severity === 'error',
  // 401 / 438 / 487 are part of the TURN exchange (severity info); the rest refuse the client.
  'stun-error-response': (f) => f.severity !== 'info',
  'http-server-error': () => true,
  // The DHCP server answered a Lync DHCPINFORM without options 43 / 120.
  'dhcp-lync-options-missing': () => true,
};

export interface AppOutcomeResult {
  app_outcome: AppOutcome;
  /** The finding that decided a failure. */
  finding?: Finding;
  reason: string;
}

/** The finding that makes the flow an application failure, if any. */
export function failingFinding(rec: FlowRecord): Finding | undefined {
  return rec.app_findings?.find((f) => FAILURES[f.kind]?.(f) === true);
}

export function appOutcome(rec: FlowRecord): AppOutcomeResult {
  const failure = failingFinding(rec);
  if (failure !== undefined) {
    const hint = failureHint(failure);
    return {
      app_outcome: 'failed',
      finding: failure,
      reason: hint ? `${failure.message}: ${hint}` : failure.message,
    };
  }
  if (rec.app === undefined || rec.app === 'unknown')
    return { app_outcome: 'not-seen', reason: 'no application protocol recognised' };
  const bothWays =
    rec.proto === 'tcp' ? rec.orig_bytes > 0 && rec.resp_bytes > 0 : rec.orig_pkts > 0 && rec.resp_pkts > 0;
  if (!bothWays || rec.app_detail?.handshake_complete === false)
    return { app_outcome: 'not-seen', reason: `${rec.app} seen, but not an exchange both ways` };
  return { app_outcome: 'worked', reason: `${rec.app} worked both ways` };
}

/** TLS alerts a client sends when it does not accept the server's certificate (RFC 8446 section 6.2). */
const CERTIFICATE_REJECTED = new Set([
  'bad_certificate',
  'unsupported_certificate',
  'certificate_revoked',
  'certificate_expired',
  'certificate_unknown',
  'unknown_ca',
]);

/** What a failure most likely means for the administrator, where the finding alone does not say. */
function failureHint(f: Finding): string | undefined {
  if (f.kind !== 'tls-handshake-failed') return undefined;
  const d = f.detail ?? {};
  const alert = d.alert as { from?: string; description?: string } | undefined;
  if (d.reason === 'alert' && alert !== undefined) {
    if (alert.from === 'client' && CERTIFICATE_REJECTED.has(alert.description ?? ''))
      return "the client does not accept the server's certificate (check its issuer is trusted by the client, its name and its dates): a certificate problem, not a firewall rule";
    if (
      alert.from === 'server' &&
      d.client_certificate_requested === true &&
      d.client_certificate_sent !== true
    )
      return 'the server requires a client certificate (mutual TLS) and the client sent none: a certificate problem, not a firewall rule';
    if (alert.from === 'server')
      return 'the server refused the handshake (protocol version, cipher suites or certificate): a TLS configuration problem, not a firewall rule';
    return 'the client gave up the handshake: a TLS configuration or certificate problem, not a firewall rule';
  }
  if (d.reason === 'no-answer')
    return 'the TCP connection was accepted but the TLS hello was never answered: the service does not speak TLS on this port, or something on the path holds the traffic';
  return undefined;
}
