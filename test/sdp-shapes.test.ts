/**
 * The SDP summary (src/recognize/sdp.ts) over every value shape sdp-transform returns: numbers
 * where its typings say strings (every group goes through toIntIfInt), NaN and Infinity, missing
 * groups, media objects with no fields. A fuzz campaign's mutated INVITE ("a=0" in the media
 * section) once made the summary throw and the reader drop the rest of the capture (issue 16).
 */
import { describe, expect, it } from 'vitest';
import { summarizeSdp, MAX_CANDIDATES, MAX_MEDIA, type SdpSummary } from '../src/recognize/sdp.js';
import {
  NUMERIC_VALUES,
  numericSdp,
  offerWithNumericAttribute,
  randomSdp,
  seeded,
} from './helpers/sdp-gen.js';

const STRING_FIELDS = ['type', 'protocol', 'address', 'rtcp_address', 'payloads', 'direction', 'ice_ufrag'];
const CANDIDATE_STRINGS = ['foundation', 'transport', 'priority', 'ip', 'type', 'raddr', 'tcptype', 'syntax'];

function isPort(n: unknown): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** Every field of a summary has the type its interface declares (what calls.ts and the reports rely on). */
function expectWellTyped(s: SdpSummary): void {
  for (const k of ['origin_address', 'address'] as const)
    if (s[k] !== undefined) expect(typeof s[k], k).toBe('string');
  expect(Array.isArray(s.media)).toBe(true);
  expect(s.media.length).toBeLessThanOrEqual(MAX_MEDIA);
  for (const m of s.media) {
    const rec = m as unknown as Record<string, unknown>;
    for (const k of STRING_FIELDS) if (rec[k] !== undefined) expect(typeof rec[k], k).toBe('string');
    expect(typeof m.type).toBe('string');
    expect(typeof m.protocol).toBe('string');
    expect(isPort(m.port), `port ${m.port}`).toBe(true);
    if (m.rtcp_port !== undefined) expect(isPort(m.rtcp_port)).toBe(true);
    expect(m.candidates.length).toBeLessThanOrEqual(MAX_CANDIDATES);
    for (const c of m.candidates) {
      const cr = c as unknown as Record<string, unknown>;
      for (const k of CANDIDATE_STRINGS) if (cr[k] !== undefined) expect(typeof cr[k], k).toBe('string');
      expect(isPort(c.port)).toBe(true);
      expect(isPort(c.component)).toBe(true);
      if (c.rport !== undefined) expect(isPort(c.rport)).toBe(true);
    }
  }
  if (s.unparsed_lines !== undefined) expect(isPort(s.unparsed_lines)).toBe(true);
  // Round-trips through JSON unchanged: no NaN, no Infinity, no undefined in arrays.
  expect(JSON.parse(JSON.stringify(s))).toEqual(s);
}

describe('the SDP summary on every value shape', () => {
  it.each(NUMERIC_VALUES)('reads an SDP with %j in every field of every section', (v) => {
    const s = summarizeSdp(numericSdp(v));
    expect(s).toBeDefined();
    expectWellTyped(s!);
    expect(s!.media).toHaveLength(3);
  });

  it('numbers come back as their text, not dropped: m=0 0 0 0, c=IN IP4 7, a=ice-ufrag:7', () => {
    const s = summarizeSdp(numericSdp('7'))!;
    expect(s.origin_address).toBe('7');
    expect(s.address).toBe('7');
    expect(s.media[0]).toMatchObject({ type: '7', port: 7, protocol: '7', payloads: '7', ice_ufrag: '7' });
    expect(s.media[0].rtcp_port).toBe(7);
    expect(s.media[0].rtcp_address).toBe('7');
    // The RFC 8839 candidate sdp-transform parsed, with numeric fields.
    expect(s.media[0].candidates[0]).toMatchObject({
      foundation: '7',
      component: 7,
      ip: '7',
      port: 7,
      raddr: '7',
    });
    // The second media section has no ufrag of its own: the session's.
    expect(s.media[1]).toMatchObject({ type: 'audio', port: 7, protocol: 'RTP/AVP', ice_ufrag: '7' });
    // The m= line sdp-transform's expression rejects: a media section with nothing known.
    expect(s.media[2]).toMatchObject({ type: '', port: 0, protocol: '', address: '7' });
  });

  it('NaN, Infinity, negative and fractional ports become 0, and their text is kept where text is expected', () => {
    for (const v of ['NaN', 'Infinity', '-1', '1.5']) {
      const s = summarizeSdp(numericSdp(v))!;
      expect(s.media[1].port, v).toBe(0);
      // a=rtcp's expression reads the leading digits: "a=rtcp:1.5" is port 1, as tshark reads it too.
      expect(s.media[1].rtcp_port, v).toBe(v === '1.5' ? 1 : 0);
    }
    // NaN and Infinity are not finite: no text for them either.
    expect(summarizeSdp(numericSdp('NaN'))!.address).toBeUndefined();
    expect(summarizeSdp(numericSdp('1.5'))!.address).toBe('1.5');
    expect(summarizeSdp(numericSdp('-1'))!.address).toBe('-1');
  });

  it("counts the issue's a=0 in a media section as one unparsed line and keeps the offer", () => {
    const s = summarizeSdp(offerWithNumericAttribute('10.0.0.1', 40000))!;
    expect(s.media).toEqual([
      expect.objectContaining({ type: 'audio', port: 40000, address: '10.0.0.1', direction: 'sendrecv' }),
    ]);
    expect(s.unparsed_lines).toBe(1);
    for (const v of ['a=7', 'a=1.5', 'a=NaN', 'a=']) {
      const t = summarizeSdp(offerWithNumericAttribute().replace('a=0', v))!;
      expect(t.media[0].port, v).toBe(40000);
      expect(t.unparsed_lines, v).toBe(1);
    }
  });

  it('an SDP of nothing but numbers, or of no lines at all, is an empty summary', () => {
    expect(summarizeSdp('0\r\n1\r\n')).toEqual({ media: [] });
    expect(summarizeSdp('')).toEqual({ media: [] });
    expect(summarizeSdp('a=0\r\na=1\r\n')).toEqual({ media: [], unparsed_lines: 2 });
  });

  it('500 seeded random SDP bodies built from those shapes all summarise well typed', () => {
    const next = seeded(16);
    for (let i = 0; i < 500; i++) {
      const body = randomSdp(next, 4 + Math.floor(next() * 40));
      const s = summarizeSdp(body);
      expect(s, body).toBeDefined();
      expectWellTyped(s!);
    }
  });
});
