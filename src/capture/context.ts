import type { ByteWindow } from './window.js';
import type { CaptureRecord } from './record.js';

/** What the format readers share: where bytes come from, where records go, how warnings are kept. */
export interface ReadContext {
  readonly name: string;
  readonly win: ByteWindow;
  emit(rec: CaptureRecord): void;
  warn(offset: number, problem: string): void;
}
