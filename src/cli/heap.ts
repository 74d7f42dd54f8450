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

/** The young generation keeps its initial size (1 MB semi-spaces): short-lived garbage is all we allocate there. */
setFlagsFromString('--semi-space-growth-factor=1');
/** After a full GC, old space may grow by half the live data before the next one (V8 allows up to 4x). */
setFlagsFromString('--heap-growing-percent=50');
