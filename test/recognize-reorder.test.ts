/**
 * The app observer's TCP delivery (src/recognize/app-observer.ts): each direction's stream bytes
 * once and in order, whatever order the segments arrived in; retransmitted bytes cut off; holes
 * that never fill flagged as gaps. A recording recognizer claims every TCP flow and keeps what it
 * was fed, so the test sees exactly what every recognizer would.
 */
import { describe, expect, it } from 'vitest';
import { ByteConn, recognizeFiles, writeTrace } from './helpers/app.js';
import { Trace } from './helpers/traffic.js';
import type { AppResult, PacketContext, Payload, Recognizer } from '../src/recognize/types.js';

interface Fed {
  orig: Buffer[];
  resp: Buffer[];
  gaps: string[];
}

const results: Fed[] = [];

const recorder: Recognizer<Fed> = {
  app: 'unknown',
  transports: ['tcp'],
  detect: (p: Payload) => (p.length > 0 ? 1 : 0),
  start: (): Fed => {
    const f: Fed = { orig: [], resp: [], gaps: [] };
    results.push(f);
    return f;
  },
  feed(f: Fed, p: Payload, ctx: PacketContext): boolean {
    const bytes = Buffer.from(p.buf.subarray(p.offset, p.offset + p.length));
    (ctx.fromOrig ? f.orig : f.resp).push(bytes);
    if (ctx.gap) f.gaps.push(`${ctx.fromOrig ? 'orig' : 'resp'}@${bytes.toString('latin1', 0, 4)}`);
    return true;
  },
  finish: (): AppResult => ({ app: 'unknown', confidence: 0, detail: {}, findings: [] }),
};

async function feedOf(trace: Trace, name: string): Promise<Fed> {
  results.length = 0;
  await recognizeFiles([writeTrace(trace, name)], [recorder]);
  expect(results).toHaveLength(1);
  return results[0];
}

const ENDS = { client: '10.9.0.1', server: '10.9.0.2', cport: 40000, sport: 7000 };
const TEXT = Buffer.from('AAAAaaaaBBBBbbbbCCCCccccDDDDddddEEEEeeeeFFFFffff');

describe('app observer: in-order TCP delivery', () => {
  it('segments that arrive out of order are delivered in order, without a gap', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .sendOutOfOrder(true, TEXT, [8, 16, 24, 32, 40], [2, 0, 1, 5, 3, 4])
      .close();
    const f = await feedOf(t, 'reorder');
    expect(Buffer.concat(f.orig).toString()).toBe(TEXT.toString());
    expect(f.gaps).toEqual([]);
  });

  it('the first data segment of a direction overtaking the one before it is held too', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS)
      .handshake()
      .send(true, Buffer.from('hello'))
      .sendOutOfOrder(false, TEXT, [24], [1, 0])
      .close();
    const f = await feedOf(t, 'reorder-first');
    expect(Buffer.concat(f.resp).toString()).toBe(TEXT.toString());
    expect(f.gaps).toEqual([]);
  });

  it('retransmitted and overlapping bytes are delivered once', async () => {
    const t = new Trace();
    const c = new ByteConn(t, ENDS).handshake();
    c.sendOutOfOrder(true, TEXT, [8, 16], [0, 0, 1, 2]); // segment 0 twice
    c.sendOutOfOrder(true, Buffer.from('ZZZZ'), [], [0]);
    const f = await feedOf(t, 'retransmit');
    expect(Buffer.concat(f.orig).toString()).toBe(TEXT.toString() + 'ZZZZ');
  });

  it('a hole that never fills: the bytes after it come out at the end, flagged as a gap', async () => {
    const t = new Trace();
    const c = new ByteConn(t, ENDS).handshake().send(true, Buffer.from('1111'));
    c.lose(true, 100).send(true, Buffer.from('2222')).send(true, Buffer.from('3333'));
    const f = await feedOf(t, 'hole');
    expect(f.orig.map((b) => b.toString())).toEqual(['1111', '2222', '3333']);
    expect(f.gaps).toEqual(['orig@2222']);
  });

  it('more out-of-order data than the reorder buffer holds: delivered in sequence order, holes flagged', async () => {
    const t = new Trace();
    const c = new ByteConn(t, ENDS).handshake().send(true, Buffer.from('head'));
    c.lose(true, 10);
    const pieces: string[] = [];
    for (let k = 0; k < 20; k++) {
      const p = `p${String(k).padStart(2, '0')}_`;
      pieces.push(p);
      c.send(true, Buffer.from(p));
    }
    const f = await feedOf(t, 'overflow');
    expect(f.orig.map((b) => b.toString())).toEqual(['head', ...pieces]);
    expect(f.gaps).toEqual(['orig@p00_']);
  });

  it('a capture that starts mid-stream flags its first bytes as following a gap', async () => {
    const t = new Trace();
    new ByteConn(t, ENDS).send(true, Buffer.from('mid-')).send(false, Buffer.from('resp'));
    const f = await feedOf(t, 'midstream');
    expect(f.gaps).toEqual(['orig@mid-', 'resp@resp']);
  });
});
