/**
 * Garbage-collector settings for a streaming run, applied when the CLI starts (main.ts imports
 * this module first). Memory must follow the live flows, not the length of the capture
 * (docs/decisions.md, "Heap settings"). With V8's defaults it does not: the young generation
 * doubles each time the bytes that survived scavenges since its last growth exceed its size, and
 * every long-lived flow survives one, so a 5M-packet run ends with a 32 MB young generation where
 * a 1M-packet run had 16 MB, and old space is allowed to grow to several times the live data
 * between full collections. Measured on 1M / 5M packets: peak RSS 80 / 102 MB with the defaults,
 * 70 / 74 MB with these two settings, for about 5% more CPU spent in (more frequent, smaller) GCs.
 *
 * Both flags are read by V8 each time it resizes the heap, so setting them at run time works
 * (the heap's size limits, like --max-semi-space-size, are fixed at startup and would not).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The young generation keeps its initial size (1 MB semi-spaces): short-lived garbage is all we allocate there. */
setFlagsFromString('--semi-space-growth-factor=1');
/** After a full GC, old space may grow by half the live data before the next one (V8 allows up to 4x). */
setFlagsFromString('--heap-growing-percent=50');

/**
 * A full collection every FULL_GC_EVERY progress ticks (the reader reports progress every 65,536
 * packets: about every million packets). Left to itself, V8 lets old space grow to about twice the
 * live data between full collections, and the most it reached grew with the length of a run:
 * peak RSS 60.5 MB on 1M packets, 67.3 MB on 5M. The live data itself stays flat (8.0-8.5 MB after
 * a full collection, from 300 MiB to 1.5 GB read), so one full collection per million packets
 * (about 5 ms with this much live data) keeps the peak where the data is.
 */
const FULL_GC_EVERY = 16;

setFlagsFromString('--expose-gc');
/** V8's gc(), from a context created after the flag (the main context was created without it). */
const fullGc = runInNewContext('gc') as (() => void) | undefined;
let ticks = 0;

/** Called with every progress report of the capture reader. */
export function heapTick(): void {
  if (++ticks % FULL_GC_EVERY === 0 && typeof fullGc === 'function') fullGc();
}
