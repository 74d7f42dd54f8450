import { terminalLine } from '../report/escape.js';

/** A progress bar on stderr for long reads, only when stderr is a terminal (never in pipes or CI logs). */
export interface Progress {
  update: (input: string, consumed: number, total: number | undefined) => void;
  stop: () => void;
}

export function createProgress(enabled: boolean): Progress {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  let shown = false;
  return {
    update(input: string, consumed: number, total: number | undefined): void {
      const mb = (consumed / 1e6).toFixed(1);
      const pct = total ? ` ${Math.min(100, Math.floor((consumed / total) * 100))}%` : '';
      process.stderr.write(`\r${terminalLine(input)}: ${mb} MB${pct}   `);
      shown = true;
    },
    stop(): void {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}
