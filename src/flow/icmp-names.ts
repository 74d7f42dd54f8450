/**
 * Names for the ICMP errors that matter when a firewall blocks traffic (RFC 792, RFC 1812
 * section 5.2.7.1 for codes 9, 10, 13; RFC 4443 section 3.1 for ICMPv6).
 */
const ICMP4_UNREACHABLE: Record<number, string> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'protocol-unreachable',
  3: 'port-unreachable',
  4: 'fragmentation-needed',
  5: 'source-route-failed',
  6: 'dest-network-unknown',
  7: 'dest-host-unknown',
  9: 'net-admin-prohibited',
  10: 'host-admin-prohibited',
  11: 'net-unreachable-for-tos',
  12: 'host-unreachable-for-tos',
  13: 'admin-prohibited',
  14: 'host-precedence-violation',
  15: 'precedence-cutoff',
};

const ICMP6_UNREACHABLE: Record<number, string> = {
  0: 'no-route',
  1: 'admin-prohibited',
  2: 'beyond-scope',
  3: 'address-unreachable',
  4: 'port-unreachable',
  5: 'source-policy-failed',
  6: 'reject-route',
};

export function icmpErrorName(ipVersion: number, type: number, code: number): string {
  if (ipVersion === 6) {
    if (type === 1) return ICMP6_UNREACHABLE[code] ?? `unreachable-code-${code}`;
    if (type === 2) return 'packet-too-big';
    if (type === 3) return 'time-exceeded';
    if (type === 4) return 'parameter-problem';
    return `icmp6-type-${type}`;
  }
  if (type === 3) return ICMP4_UNREACHABLE[code] ?? `unreachable-code-${code}`;
  if (type === 4) return 'source-quench';
  if (type === 5) return 'redirect';
  if (type === 11) return 'time-exceeded';
  if (type === 12) return 'parameter-problem';
  return `icmp-type-${type}`;
}

/** What an ICMP error says about the port it answers: refused outright, or filtered on the way. */
export type IcmpMeaning = 'refused' | 'filtered' | 'other';

export function icmpErrorMeaning(ipVersion: number, type: number, code: number): IcmpMeaning {
  if (ipVersion === 6) {
    if (type !== 1) return 'other';
    return code === 4 ? 'refused' : 'filtered';
  }
  if (type !== 3) return 'other';
  if (code === 3 || code === 2) return 'refused';
  return 'filtered';
}
