/** An address and port as people and Wireshark write them: IPv6 in brackets (RFC 3986 section 3.2.2). */
export function endpoint(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
