/**
 * Runs the recognizers over flows, as the flow table's payload observer.
 *
 * Detection: each payload of a new flow (at most DETECT_PACKETS of them) is offered to every
 * recognizer of the flow's transport; the most confident claim of 0.5 or more wins the flow.
 * Afterwards only the winner sees the flow's payloads, until its `feed` returns false; then the
 * flow table stops calling us for that flow (flow.inspect = false). For TCP the payloads are the
 * in-order new bytes of each direction (retransmitted bytes cut off, gaps flagged), so stream
 * parsers see each byte once. One Payload and one PacketContext object are reused throughout.
 */
import { TCP_SYN, IPPROTO_TCP, IPPROTO_UDP, type PacketView } from '../decode/view.js';
import { connState } from '../flow/conn-state.js';
import { OrigFrom, type Flow } from '../flow/flow.js';
import type { PayloadObserver } from '../flow/table.js';
import type { AppResult, PacketContext, Payload, Recognizer } from './types.js';

/** How many payload packets of a flow detection looks at before giving up. */
const DETECT_PACKETS = 8;
const CLAIM = 0.5;

interface FlowApp {
  recognizer: Recognizer | null;
  state: unknown;
  examined: number;
  /** Next expected TCP sequence number per direction (0 orig, 1 resp), or -1 before the first payload. */
  nextSeq: [number, number];
  /** True when the last segment of a direction was cut by the snaplen. */
  cut: [boolean, boolean];
}

export interface AppObserver {
  observer: PayloadObserver;
  /** The recognize result for a flow that has ended (undefined when nothing was recognized). */
  finish(flow: Flow): AppResult | undefined;
}

export function createAppObserver(recognizers: readonly Recognizer[]): AppObserver {
  const forTcp = recognizers.filter((r) => r.transports.includes('tcp'));
  const forUdp = recognizers.filter((r) => r.transports.includes('udp'));
  const payload: Payload = { buf: Buffer.alloc(0), offset: 0, length: 0 };
  const ctx: PacketContext = {
    fromOrig: true,
    ts: 0,
    transport: 'udp',
    origPort: 0,
    respPort: 0,
    gap: false,
  };

  function deliver(flow: Flow, app: FlowApp, candidates: readonly Recognizer[]): void {
    if (app.recognizer === null) {
      app.examined++;
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
        if (app.examined >= DETECT_PACKETS) flow.inspect = false;
        return;
      }
      app.recognizer = best;
      app.state = best.start(ctx);
    }
    if (!app.recognizer.feed(app.state, payload, ctx)) flow.inspect = false;
  }

  const observer: PayloadObserver = (
    flow: Flow,
    fromOrig: boolean,
    view: PacketView,
    buf: Buffer,
    ts: number,
  ): void => {
    const tcp = flow.proto === IPPROTO_TCP;
    if (!tcp && flow.proto !== IPPROTO_UDP) {
      flow.inspect = false;
      return;
    }
    let app = flow.app as FlowApp | undefined;
    if (app === undefined) {
      app = { recognizer: null, state: undefined, examined: 0, nextSeq: [-1, -1], cut: [false, false] };
      flow.app = app;
    }
    ctx.fromOrig = fromOrig;
    ctx.ts = ts;
    ctx.transport = tcp ? 'tcp' : 'udp';
    ctx.origPort = flow.orig.port;
    ctx.respPort = flow.resp.port;
    ctx.gap = false;
    payload.buf = buf;
    let offset = view.payloadOffset;
    let length = view.payloadCaptured;
    if (tcp) {
      const dir = fromOrig ? 0 : 1;
      const dataSeq = (view.tcpSeq + (view.tcpFlags & TCP_SYN ? 1 : 0)) >>> 0;
      const expected = app.nextSeq[dir];
      if (expected < 0) {
        // First bytes of this direction: from the start of the stream only if the handshake was seen.
        ctx.gap = flow.origFrom === OrigFrom.FirstPacket || flow.origFrom === OrigFrom.ServerPort;
      } else {
        const delta = (dataSeq - expected) | 0;
        if (delta < 0) {
          // Retransmitted or overlapping bytes: deliver only what is new.
          if (length + delta <= 0) return;
          offset -= delta;
          length += delta;
        } else if (delta > 0) {
          ctx.gap = true;
        }
      }
      if (app.cut[dir]) {
        ctx.gap = true;
        app.cut[dir] = false;
      }
      app.nextSeq[dir] = (dataSeq + view.payloadLength) >>> 0;
      // A snaplen-cut segment: its missing tail is a gap before the next one.
      if (view.payloadCaptured < view.payloadLength) app.cut[dir] = true;
    }
    payload.offset = offset;
    payload.length = length;
    deliver(flow, app, tcp ? forTcp : forUdp);
  };

  return {
    observer,
    finish(flow: Flow): AppResult | undefined {
      const app = flow.app as FlowApp | undefined;
      if (app === undefined || app.recognizer === null) return undefined;
      return app.recognizer.finish(app.state, {
        origPkts: flow.orig.pkts,
        respPkts: flow.resp.pkts,
        connState: connState(flow),
        origPort: flow.orig.port,
        respPort: flow.resp.port,
        transport: flow.proto === IPPROTO_TCP ? 'tcp' : 'udp',
      });
    },
  };
}
