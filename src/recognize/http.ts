/**
 * HTTP/1.x (RFC 9112 section 3, request line; section 4, status line): the method, target and
 * Host of the first request, the status of the first response. Plain HTTP on a port the catalog
 * expects to carry TLS (443, 444, 4443) is what the `mismatch` verdict looks for.
 */
import type { AppResult, FlowEnd, PacketContext, Payload, Recognizer } from './types.js';

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'HEAD',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'CONNECT',
  'TRACE',
  'RPC_IN_DATA',
  'RPC_OUT_DATA',
];
/** How much of the first message we read: a request line and a few headers. */
const PEEK = 2048;

interface HttpState {
  method?: string;
  target?: string;
  host?: string;
  userAgent?: string;
  status?: number;
  requests: number;
  responses: number;
}

function startsWithAscii(p: Payload, text: string): boolean {
  if (p.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (p.buf[p.offset + i] !== text.charCodeAt(i)) return false;
  return true;
}

function methodAt(p: Payload): string | undefined {
  for (const m of METHODS)
    if (startsWithAscii(p, m) && p.length > m.length && p.buf[p.offset + m.length] === 0x20) return m;
  return undefined;
}

/** The first line and headers up to PEEK bytes, as latin1 (bytes preserved; rendering escapes them). */
function headText(p: Payload): string {
  return p.buf.toString('latin1', p.offset, p.offset + Math.min(p.length, PEEK));
}

/** Header value by name (case-insensitive), scanning lines without regular expressions. */
export function headerValue(head: string, name: string): string | undefined {
  const lower = name.toLowerCase();
  let start = head.indexOf('\n') + 1;
  while (start > 0 && start < head.length) {
    let end = head.indexOf('\n', start);
    if (end < 0) end = head.length;
    const raw = head.slice(start, end);
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0) break;
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === lower) return line.slice(colon + 1).trim();
    start = end + 1;
  }
  return undefined;
}

export const http: Recognizer<HttpState> = {
  app: 'http',
  transports: ['tcp'],

  detect(p: Payload): number {
    if (startsWithAscii(p, 'HTTP/1.')) return 0.9;
    const m = methodAt(p);
    if (m === undefined) return 0;
    // "METHOD target HTTP/1.x" on the first line.
    const line = p.buf.toString('latin1', p.offset, p.offset + Math.min(p.length, 512));
    const eol = line.indexOf('\r\n');
    return (eol < 0 ? line : line.slice(0, eol)).includes(' HTTP/1.') ? 0.9 : 0.5;
  },

  start(): HttpState {
    return { requests: 0, responses: 0 };
  },

  feed(s: HttpState, p: Payload, ctx: PacketContext): boolean {
    if (ctx.fromOrig && s.method === undefined) {
      const m = methodAt(p);
      if (m !== undefined) {
        const head = headText(p);
        const firstLine = head.slice(0, Math.max(0, head.indexOf('\r\n')));
        s.method = m;
        s.target = firstLine.split(' ')[1];
        s.host = headerValue(head, 'Host');
        s.userAgent = headerValue(head, 'User-Agent');
        s.requests++;
      }
    } else if (!ctx.fromOrig && s.status === undefined && startsWithAscii(p, 'HTTP/1.')) {
      const code = Number(p.buf.toString('latin1', p.offset + 9, p.offset + 12));
      if (Number.isInteger(code)) s.status = code;
      s.responses++;
    }
    return s.method === undefined || s.status === undefined;
  },

  finish(s: HttpState, end: FlowEnd): AppResult {
    const detail: Record<string, unknown> = {};
    if (s.method !== undefined) detail.method = s.method;
    if (s.target !== undefined) detail.target = s.target;
    if (s.host !== undefined) detail.host = s.host;
    if (s.userAgent !== undefined) detail.user_agent = s.userAgent;
    if (s.status !== undefined) detail.status = s.status;
    const findings: AppResult['findings'] = [];
    if (s.status !== undefined && s.status >= 500)
      findings.push({
        kind: 'http-server-error',
        severity: 'warning',
        message: `HTTP ${s.status} from the server`,
      });
    const parsed = s.method !== undefined || s.status !== undefined;
    void end;
    return { app: 'http', confidence: parsed ? 0.95 : 0.5, detail, findings };
  },
};
