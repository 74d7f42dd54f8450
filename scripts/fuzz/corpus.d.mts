/** Types of scripts/fuzz/corpus.mjs. */
export function buildGenerated(dir: string): void;
export function loadCorpus(sharedDir: string, generatedDir: string): { name: string; bytes: Buffer }[];
