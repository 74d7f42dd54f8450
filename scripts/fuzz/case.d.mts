/** Types of scripts/fuzz/case.mjs, for the test slice of the fuzz campaign. */
export interface Fault {
  stage: 'reader' | 'flow' | 'recognizer' | 'analyze' | 'report';
  where: string;
  message: string;
  stack: string;
}

export interface CaseResult {
  faults: Fault[];
  records: number;
  packets: number;
}

export function controlCharacter(text: string): string | undefined;
export function stageOf(err: unknown, fallback: string): string;
export function runCase(
  lib: unknown,
  catalog: unknown,
  path: string,
  size: number,
  compressed: boolean,
  options?: { html?: boolean },
): Promise<CaseResult>;
export function sharedCorpus(dir: string): { name: string; bytes: Buffer }[];
