/**
 * Generators of SDP bodies that reach every value shape sdp-transform can return
 * (node_modules/sdp-transform/lib/parser.js turns every captured group that reads back as a number
 * into one, so "a=0", "c=IN IP4 7" or "m=0 0 0 0" give numbers where strings are expected; an m=
 * line its regular expression rejects gives a media object with no fields; NaN and Infinity read
 * back as themselves). Used by the SDP summary tests and by the recogniser fault-boundary tests.
 */

/** Values that read back as numbers (and a few that do not), as a fuzzer's mutations produced them. */
export const NUMERIC_VALUES = ['0', '7', '1.5', '-1', '65536', 'NaN', 'Infinity', '-Infinity', '1e3', ''];

/**
 * An SDP body (CRLF lines) with the value `v` in every field of every line sdp.ts reads, and in
 * unknown attributes, at session level and in three media sections (one whose m= line is all `v`,
 * one ordinary with `v` in its attributes, one the m= expression rejects).
 */
export function numericSdp(v: string): string {
  return [
    `v=${v}`,
    `o=${v} ${v} ${v} ${v} IP4 ${v}`,
    `s=${v}`,
    `c=IN IP4 ${v}`,
    `t=${v} ${v}`,
    `a=${v}`,
    `a=ice-ufrag:${v}`,
    `a=${v}:${v}`,
    `m=${v} ${v} ${v} ${v}`,
    `c=IN IP4 ${v}`,
    `a=${v}`,
    `a=rtcp:${v} IN IP4 ${v}`,
    `a=candidate:${v} ${v} ${v} ${v} ${v} ${v} typ ${v} raddr ${v} rport ${v} tcptype ${v}`,
    `a=candidate:${v} 1 ${v} ${v} 0.5 ${v} ${v}`,
    `a=x-candidate-ipv6:${v} ${v} ${v} ${v} ${v} ${v} typ ${v}`,
    `a=ice-ufrag:${v}`,
    `a=crypto:${v} ${v} ${v}`,
    `a=${v}=${v}`,
    `m=audio ${v} RTP/AVP ${v}`,
    `a=${v}`,
    `a=rtcp:${v}`,
    `a=candidate:1 1 UDP ${v} 10.0.0.1 ${v} typ host`,
    'm=!',
    `a=${v}`,
    '',
  ].join('\r\n');
}

/** The mutated offer: a real-looking audio offer whose media section has an `a=0` line. */
export function offerWithNumericAttribute(address = '10.0.0.1', port = 40000): string {
  return [
    'v=0',
    `o=- 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0 8`,
    'a=0',
    'a=rtpmap:0 PCMU/8000',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** A small seeded generator (mulberry32): the same seed gives the same bodies on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random SDP body: `lines` lines, each a random line type with random fields drawn from
 * NUMERIC_VALUES, short words and addresses (the shapes a payload mutation produces).
 */
export function randomSdp(next: () => number, lines = 24): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const atoms = [
    ...NUMERIC_VALUES,
    'x',
    'IN',
    'IP4',
    'IP6',
    'typ',
    'host',
    'UDP',
    '10.0.0.1',
    'raddr',
    'rport',
  ];
  const field = (): string => pick(atoms);
  const fields = (n: number): string => Array.from({ length: n }, field).join(' ');
  const kinds: (() => string)[] = [
    () => `v=${field()}`,
    () => `o=${fields(4)} IP${pick(['4', '6', '0'])} ${field()}`,
    () => `c=IN IP${pick(['4', '6'])} ${field()}`,
    () => `m=${fields(4)}`,
    () => `m=audio ${field()} RTP/AVP ${fields(2)}`,
    () => `a=${field()}`,
    () => `a=${field()}:${fields(3)}`,
    () => `a=rtcp:${fields(4)}`,
    () => `a=candidate:${fields(6)} typ ${fields(5)}`,
    () => `a=candidate:${fields(7)}`,
    () => `a=x-candidate-ipv6:${fields(8)}`,
    () => `a=ice-ufrag:${field()}`,
    () => `a=crypto:${fields(3)}`,
    () => `a=${pick(['sendrecv', 'recvonly', 'inactive', 'sendonly'])}`,
    () => `${pick(['b', 't', 'z', 'k', 'r'])}=${fields(2)}`,
  ];
  return Array.from({ length: lines }, () => pick(kinds)()).join(pick(['\r\n', '\n'])) + '\r\n';
}
