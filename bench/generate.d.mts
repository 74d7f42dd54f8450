/** Types of bench/generate.mjs, for the tests that build captures with it. */
export const GENERATOR_VERSION: number;

export interface GenerateResult {
  packets: number;
  bytes: number;
  /** Seconds of traffic from the first packet to the last. */
  seconds: number;
  counts: Record<string, number>;
}

/** The traffic mixes: `media` (80% SRTP) and `tcp` (short TCP/TLS sessions, scans, registrations). */
export const PROFILES: readonly ('media' | 'tcp')[];

/** The deterministic PRNG the generator draws from: 32-bit unsigned integers. */
export function sfc32(seed: number): () => number;

export function generate(options: {
  packets: number;
  seed?: number;
  out: string;
  profile?: 'media' | 'tcp';
}): GenerateResult;
