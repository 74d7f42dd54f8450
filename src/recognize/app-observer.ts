/**
 * Runs the recognizers over flows, as the flow table's payload observer.
 *
 * Detection: each payload of a new flow (at most DETECT_PACKETS of them) is offered to every
 * recognizer of the flow's transport; the most confident claim of 0.5 or more wins the flow.
 * Afterwards only the winner sees the flow's payloads, until its `feed` returns false; then the
 * flow table stops calling us for that flow (flow.inspect = false). For TCP the payloads are the
 * in-order new bytes of each direction (retransmitted bytes cut off, gaps flagged), so stream
 * parsers see each byte once. One Payload and one PacketContext object are reused throughout.
 *
 * Segments that arrive ahead of a hole (reordering, or a lost segment that is retransmitted later)
 * are copied aside, at most REORDER_SEGMENTS / REORDER_BYTES per direction, and delivered once the
 * hole is filled, as tshark's reassembly does; when the hole is not filled in time (the buffer is
 * full, or the flow ends) they are delivered with the gap flag. A direction's stream starts at the
 * sequence number after its SYN when the handshake was seen, so a first segment that overtook an
 * earlier one is held back too. Only that exceptional path allocates.
 *
 * This is also the recogniser fault boundary (faults.ts): whatever a recogniser's detect, start,
 * feed or finish throws is caught here, reported once for that flow and recogniser, and costs that
 * flow that recogniser's details only: a recogniser that fails in detect is not offered the flow
 * again (the others still are), one that fails on a flow it owns stops seeing it, and its finish
 * still runs for what it had, the record saying where it stopped (app_detail.recognizer_fault).
 */
import { TCP_SYN, IPPROTO_TCP, IPPROTO_UDP, type PacketView } from '../decode/view.js';
import { connState } from '../flow/conn-state.js';
import { END_REASON_NAMES, OrigFrom, type Flow } from '../flow/flow.js';
import type { PayloadObserver } from '../flow/table.js';
import { faultMessage, flowName, type FaultStage, type RecognizerFault } from './faults.js';
import { feedMediaDatagram, media, type MediaState } from './media.js';
import type { AppResult, PacketContext, Payload, Recognizer } from './types.js';

/** How many payload packets of a flow detection looks at before giving up. */
const DETECT_PACKETS = 8;
const CLAIM = 0.5;
/** Out-of-order segments held per direction, and their bytes, before we stop waiting for the hole. */
const REORDER_SEGMENTS = 16;
const REORDER_BYTES = 64 * 1024;
/** A segment further ahead than this is a real gap (capture loss), not reordering. */
const REORDER_WINDOW = 1024 * 1024;

/** A segment that arrived ahead of a hole: its bytes (a copy), where it starts and its time. */
interface Held {
  seq: number;
  data: Buffer;
  /** Sequence length on the wire (more than data.length when the snaplen cut the segment). */
  wireLength: number;
  ts: number;
}

interface FlowApp {
  recognizer: Recognizer | null;
  state: unknown;
  /**
   * The media recognizer's state when it owns this UDP flow (else null): the observer's fast path
   * feeds it directly (see `observer`).
   */
  media: MediaState | null;
  examined: number;
  /** Next expected TCP sequence number per direction (0 orig, 1 resp), or -1 before the first payload. */
  nextSeq: [number, number];
  /** True when the next delivery of a direction follows missing bytes (snaplen cut, mid-stream start, lost hole). */
  cut: [boolean, boolean];
  /** Out-of-order segments per direction, sorted by sequence number (null until needed). */
  held: [Held[] | null, Held[] | null];
  heldBytes: [number, number];
  /** Recognizers that threw on this flow (null until one does): not offered its payloads again. */
  failed: Recognizer[] | null;
  /** The fault that stopped the recognizer that owns the flow, or null. */
  fault: RecognizerFault | null;
}

export interface AppObserver {
  observer: PayloadObserver;
  /** The recognize result for a flow that has ended (undefined when nothing was recognized). */
  finish(flow: Flow): AppResult | undefined;
}

/**
 * `onFault` hears each recogniser fault once (per flow and recogniser), as it happens; the
 * flow's record then carries it too.
 */
export function createAppObserver(
  recognizers: readonly Recognizer[],
  onFault?: (fault: RecognizerFault) => void,
): AppObserver {
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

  /**
   * Records a fault of recognizer `r` (null: the framework itself) on this flow: `r` is not offered
   * the flow again, and when it owns the flow (or the framework failed) the flow is not inspected
   * further. Only this exceptional path allocates.
   */
  function fail(flow: Flow, app: FlowApp, r: Recognizer | null, stage: FaultStage, err: unknown): void {
    const fault: RecognizerFault = {
      // A fault of the framework's own steps is reported under the flow's owner, when it has one.
      recognizer: (r ?? app.recognizer)?.app ?? 'unknown',
      stage,
      frame: flow.lastFrame,
      flow: flowName(flow),
      message: faultMessage(err),
    };
    if (r !== null) (app.failed ??= []).push(r);
    if (r === null || r === app.recognizer) {
      if (app.fault === null) app.fault = fault;
      app.media = null;
      flow.inspect = false;
    }
    onFault?.(fault);
  }

  function deliver(flow: Flow, app: FlowApp, candidates: readonly Recognizer[]): void {
    if (app.recognizer === null) {
      app.examined++;
      let best: Recognizer | null = null;
      let bestScore = CLAIM;
      const failed = app.failed;
      for (const r of candidates) {
        if (failed !== null && failed.includes(r)) continue;
        let score: number;
        try {
          score = r.detect(payload, ctx);
        } catch (err) {
          fail(flow, app, r, 'detect', err);
          continue;
        }
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
      try {
        app.state = best.start(ctx);
      } catch (err) {
        fail(flow, app, best, 'start', err);
        return;
      }
      if (best === media && ctx.transport === 'udp') app.media = app.state as MediaState;
    }
    let more: boolean;
    try {
      more = app.recognizer.feed(app.state, payload, ctx);
    } catch (err) {
      fail(flow, app, app.recognizer, 'feed', err);
      return;
    }
    if (!more) flow.inspect = false;
  }

  /**
   * Delivers the new bytes of a TCP segment at `seq` (wire length `wireLength`, `length` captured)
   * in direction `dir`, trimming what was delivered already, and advances that direction's stream.
   */
  function deliverTcp(
    flow: Flow,
    app: FlowApp,
    dir: 0 | 1,
    buf: Buffer,
    offset: number,
    length: number,
    seq: number,
    wireLength: number,
    ts: number,
  ): void {
    // A snaplen-cut segment: its missing tail is a gap before the next delivery.
    const cutTail = length < wireLength;
    const delta = (seq - app.nextSeq[dir]) | 0;
    if (delta < 0) {
      // Retransmitted or overlapping bytes: deliver only what is new.
      if (wireLength + delta <= 0) return;
      offset -= delta;
      length += delta;
    }
    const gap = delta > 0 || app.cut[dir];
    app.nextSeq[dir] = (seq + wireLength) >>> 0;
    if (length <= 0) {
      // New bytes on the wire, none of them captured.
      app.cut[dir] = true;
      return;
    }
    app.cut[dir] = cutTail;
    ctx.gap = gap;
    ctx.ts = ts;
    payload.buf = buf;
    payload.offset = offset;
    payload.length = length;
    deliver(flow, app, forTcp);
  }

  /** Delivers held segments the stream has reached (all of them, gaps flagged, when `all`). */
  function drainHeld(flow: Flow, app: FlowApp, dir: 0 | 1, all: boolean): void {
    const held = app.held[dir];
    while (held !== null && held.length > 0 && flow.inspect) {
      const h = held[0];
      if (!all && ((h.seq - app.nextSeq[dir]) | 0) > 0) break;
      held.shift();
      app.heldBytes[dir] -= h.data.length;
      deliverTcp(flow, app, dir, h.data, 0, h.data.length, h.seq, h.wireLength, h.ts);
    }
  }

  function hold(
    app: FlowApp,
    dir: 0 | 1,
    buf: Buffer,
    offset: number,
    length: number,
    seq: number,
    wireLength: number,
    ts: number,
  ): void {
    let held = app.held[dir];
    if (held === null) held = app.held[dir] = [];
    const h: Held = { seq, data: Buffer.from(buf.subarray(offset, offset + length)), wireLength, ts };
    let at = held.length;
    while (at > 0 && ((held[at - 1].seq - seq) | 0) > 0) at--;
    held.splice(at, 0, h);
    app.heldBytes[dir] += length;
  }

  /**
   * Most packets of a call capture are RTP in UDP flows the media recognizer owns: those skip the
   * generic path (the payload and the rest of ctx, whose only reader is the generic `feed`, and the
   * call through `app.recognizer.feed`, which sees every recognizer and so cannot be inlined) and
   * go to media's datagram feed, which reads ctx.fromOrig and ctx.ts only. The fast path stays
   * at the top of this (large) function on purpose: split into a small observer of its own, V8
   * inlined it into FlowTable.add, and add then no longer inlined its own per-packet helpers.
   */
  const observer: PayloadObserver = (flow: Flow, fromOrig: boolean, view: PacketView, buf: Buffer): void => {
    let app = flow.app as FlowApp | undefined;
    if (app !== undefined && app.media !== null) {
      ctx.fromOrig = fromOrig;
      ctx.ts = view.ts;
      try {
        if (!feedMediaDatagram(app.media, buf, view.payloadOffset, view.payloadCaptured, ctx))
          flow.inspect = false;
      } catch (err) {
        fail(flow, app, app.recognizer, 'feed', err);
      }
      return;
    }
    try {
      observeGeneric(flow, fromOrig, view, buf, app);
    } catch (err) {
      // The framework's own steps (reordering, stream positions): a fault costs this flow only.
      app = flow.app as FlowApp | undefined;
      if (app !== undefined) fail(flow, app, null, 'observer', err);
      else flow.inspect = false;
    }
  };

  /** Every payload but owned UDP media: detection, then the owner's feed (TCP in stream order). */
  function observeGeneric(
    flow: Flow,
    fromOrig: boolean,
    view: PacketView,
    buf: Buffer,
    existing: FlowApp | undefined,
  ): void {
    let app = existing;
    const ts = view.ts;
    const tcp = flow.proto === IPPROTO_TCP;
    if (!tcp && flow.proto !== IPPROTO_UDP) {
      flow.inspect = false;
      return;
    }
    if (app === undefined) {
      app = {
        recognizer: null,
        state: undefined,
        media: null,
        examined: 0,
        nextSeq: [-1, -1],
        cut: [false, false],
        held: [null, null],
        heldBytes: [0, 0],
        failed: null,
        fault: null,
      };
      flow.app = app;
    }
    ctx.fromOrig = fromOrig;
    ctx.ts = ts;
    ctx.transport = tcp ? 'tcp' : 'udp';
    ctx.origPort = flow.orig.port;
    ctx.respPort = flow.resp.port;
    ctx.gap = false;
    if (!tcp) {
      payload.buf = buf;
      payload.offset = view.payloadOffset;
      payload.length = view.payloadCaptured;
      deliver(flow, app, forUdp);
      return;
    }
    const dir = fromOrig ? 0 : 1;
    const seq = (view.tcpSeq + (view.tcpFlags & TCP_SYN ? 1 : 0)) >>> 0;
    if (app.nextSeq[dir] < 0) {
      // The stream starts after the SYN when the handshake was seen (a first segment may have
      // overtaken an earlier one); otherwise at the first bytes seen, after a gap.
      const midStream = flow.origFrom === OrigFrom.FirstPacket || flow.origFrom === OrigFrom.ServerPort;
      const ep = fromOrig ? flow.orig : flow.resp;
      const start = (ep.startSeq + 1) >>> 0;
      const ahead = (seq - start) | 0;
      const useStart = !midStream && ahead >= 0 && ahead <= REORDER_WINDOW;
      app.nextSeq[dir] = useStart ? start : seq;
      // Bytes before these are missing: a mid-stream start, or a first segment we cannot place.
      if (!useStart) app.cut[dir] = midStream || ahead !== 0;
    }
    const delta = (seq - app.nextSeq[dir]) | 0;
    if (delta > 0 && delta <= REORDER_WINDOW) {
      // Ahead of a hole: wait for the missing bytes, unless we have waited for too much already;
      // then everything held goes out in sequence order, the holes flagged as gaps.
      hold(app, dir, buf, view.payloadOffset, view.payloadCaptured, seq, view.payloadLength, ts);
      const held = app.held[dir];
      const full = held !== null && (held.length > REORDER_SEGMENTS || app.heldBytes[dir] > REORDER_BYTES);
      if (full) drainHeld(flow, app, dir, true);
      return;
    }
    if (delta > 0) drainHeld(flow, app, dir, true);
    if (!flow.inspect) return;
    deliverTcp(flow, app, dir, buf, view.payloadOffset, view.payloadCaptured, seq, view.payloadLength, ts);
    drainHeld(flow, app, dir, false);
  }

  return {
    observer,
    finish(flow: Flow): AppResult | undefined {
      const app = flow.app as FlowApp | undefined;
      if (app === undefined) return undefined;
      // Segments still waiting for a hole that never filled: deliver them after the gap.
      try {
        for (const dir of [0, 1] as const) {
          if (app.held[dir] === null || !flow.inspect) continue;
          ctx.fromOrig = dir === 0;
          ctx.origPort = flow.orig.port;
          ctx.respPort = flow.resp.port;
          ctx.transport = 'tcp';
          drainHeld(flow, app, dir, true);
        }
      } catch (err) {
        fail(flow, app, null, 'observer', err);
      }
      const r = app.recognizer;
      if (r === null) return undefined;
      let result: AppResult | undefined;
      // A recognizer whose start failed has no state to finish.
      if (app.fault === null || app.fault.stage !== 'start') {
        try {
          result = r.finish(app.state, {
            origPkts: flow.orig.pkts,
            respPkts: flow.resp.pkts,
            connState: connState(flow),
            origPort: flow.orig.port,
            respPort: flow.resp.port,
            transport: flow.proto === IPPROTO_TCP ? 'tcp' : 'udp',
            endReason: END_REASON_NAMES[flow.endReason],
            lastTs: flow.lastTs,
          });
        } catch (err) {
          // After a fault in feed the state may be inconsistent: that fault was reported already.
          if (app.fault === null) fail(flow, app, r, 'finish', err);
        }
      }
      return app.fault === null ? result : withFault(result, r, app.fault);
    },
  };
}

/**
 * The result of a flow whose recognizer failed: what its finish had (or, when it had nothing, the
 * protocol its detect claimed, at the claim's threshold), and where it stopped.
 */
function withFault(result: AppResult | undefined, r: Recognizer, fault: RecognizerFault): AppResult {
  const out: AppResult =
    result === undefined || result.app === 'unknown'
      ? { app: r.app, confidence: CLAIM, detail: {}, findings: [] }
      : result;
  out.detail.recognizer_fault = { stage: fault.stage, frame: fault.frame, message: fault.message };
  return out;
}
