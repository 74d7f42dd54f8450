/** Types of bench/generate.mjs, for the tests that build captures with it. */
export const GENERATOR_VERSION: number;

export interface GenerateResult {
  packets: number;
  bytes: number;
  /** Seconds of traffic from the first packet to the last. */
  seconds: number;
  counts: Record<string, number>;
}

export function generate(options: {
  packets: number;
  seed?: number;
  out: string;
  /** 'media' (the default: mostly SRTP) or 'tcp' (short TLS sessions, scans, SIP registrations). */
  profile?: 'media' | 'tcp';
}): GenerateResult;
