/** Types of scripts/fuzz/mutate.mjs (the parts the tests use). */
export interface FuzzCase {
  bytes: Buffer;
  base: string;
  mutations: string[];
  gzip: boolean;
}

export const MUTATIONS: readonly string[];
export const MAX_WINDOW: number;
export function makeCase(corpus: { name: string; bytes: Buffer }[], seed: number, index: number): FuzzCase;
export function corpusEntry(name: string, bytes: Buffer): { name: string; bytes: Buffer };
