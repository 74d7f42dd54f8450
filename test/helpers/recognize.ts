/**
 * Runs recognizers over hand-built payloads the way src/recognize/app-observer.ts does (offer the
 * first payloads to every detect, the highest claim of 0.5 or more wins, then feed until it says
 * stop, then finish), without the capture and flow stages. Each payload is placed inside a larger
 * buffer between filler bytes, as the capture reader's buffer would hold it, so that a parser
 * that reads past its view is caught.
 */
import type { AppResult, FlowEnd, PacketContext, Payload, Recognizer } from '../../src/recognize/types.js';

export interface TestPacket {
  data: Buffer;
  /** Default true. */
  fromOrig?: boolean;
  /** Seconds; default: 0.02 s after the previous packet. */
  ts?: number;
  gap?: boolean;
}

export interface Recognized {
  result: AppResult | undefined;
  /** The recognizer that claimed the flow. */
  claimedBy: string | undefined;
  /** Payloads fed before the recognizer said it had seen enough. */
  fed: number;
}

const DETECT_PACKETS = 8;
const CLAIM = 0.5;
const FILL = 0xa5;

function embed(data: Buffer): Payload {
  const buf = Buffer.alloc(data.length + 64, FILL);
  data.copy(buf, 32);
  return { buf, offset: 32, length: data.length };
}

export function recognize(
  recognizers: readonly Recognizer[],
  transport: 'udp' | 'tcp',
  packets: TestPacket[],
  ports: { orig: number; resp: number } = { orig: 50000, resp: 50002 },
): Recognized {
  const candidates = recognizers.filter((r) => r.transports.includes(transport));
  let chosen: Recognizer | null = null;
  let state: unknown;
  let examined = 0;
  let fed = 0;
  let inspect = true;
  let ts = 1000;
  let origPkts = 0;
  let respPkts = 0;
  for (const p of packets) {
    ts = p.ts ?? ts + 0.02;
    const fromOrig = p.fromOrig ?? true;
    if (fromOrig) origPkts++;
    else respPkts++;
    if (!inspect) continue;
    const ctx: PacketContext = {
      fromOrig,
      ts,
      transport,
      origPort: ports.orig,
      respPort: ports.resp,
      gap: p.gap ?? false,
    };
    const payload = embed(p.data);
    if (chosen === null) {
      examined++;
      let best: Recognizer | null = null;
      let bestScore = CLAIM;
      for (const r of candidates) {
        const score = r.detect(payload, ctx);
        if (score >= bestScore && (best === null || score > bestScore)) {
          best = r;
          bestScore = score;
        }
      }
      if (best === null) {
        if (examined >= DETECT_PACKETS) inspect = false;
        continue;
      }
      chosen = best;
      state = best.start(ctx);
    }
    fed++;
    if (!chosen.feed(state, payload, ctx)) inspect = false;
  }
  if (chosen === null) return { result: undefined, claimedBy: undefined, fed };
  const end: FlowEnd = {
    origPkts,
    respPkts,
    connState: transport === 'tcp' ? 'SF' : 'S0',
    origPort: ports.orig,
    respPort: ports.resp,
    transport,
  };
  const result = chosen.finish(state, end);
  return { result: result.app === 'unknown' ? undefined : result, claimedBy: chosen.app, fed };
}

/** Splits a byte stream into TCP payloads of the given sizes (the last one takes the rest). */
export function segments(stream: Buffer, sizes: number[], fromOrig = true): TestPacket[] {
  const out: TestPacket[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= stream.length) break;
    out.push({ data: stream.subarray(at, Math.min(stream.length, at + size)), fromOrig });
    at += size;
  }
  if (at < stream.length) out.push({ data: stream.subarray(at), fromOrig });
  return out;
}
