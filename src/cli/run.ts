/**
 * One run of a command, from its first read to its exit status, whatever ends it:
 * - its outputs (output.ts): a reader that went away (EPIPE) stops the run quietly, exit 0; any
 *   other write error stops it with one line, "lync-port-audit: cannot write OUT: reason", exit 2;
 *   in both cases the capture is not read further and nothing else is printed;
 * - Ctrl-C (SIGINT) or SIGTERM: the read stops, the report of what was read so far is written,
 *   marked partial, and the run exits 130 / 143 (128 + the signal number, as shells report a
 *   process the signal ended). The handlers are removed at the first signal, so a second one
 *   ends the process at once, by the signal's default action;
 * - stderr: every line goes through terminalLine (file names and packet text escaped).
 */
import { terminalLine } from '../report/escape.js';
import { OutputError } from '../report/output-file.js';
import { openOutput, type Output } from './output.js';

/** Exit statuses (documented in every command's --help and in the README). */
export const EXIT = { ok: 0, failOn: 1, error: 2 } as const;

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;
type HandledSignal = keyof typeof SIGNALS;

/** The text of every command's --help that says how it ends. */
export function exitStatusHelp(failOn: boolean, who = ''): string {
  return `
Exit status:
  0    done${failOn ? ` (and ${who}--fail-on found nothing)` : ''}
${failOn ? `  1    ${who}--fail-on found flows with the verdicts it names\n` : ''}  2    usage error, unreadable input (what could be read is still reported) or output error
       (one line: "lync-port-audit: cannot write OUT: reason")
  130  interrupted by Ctrl-C (SIGINT), 143 by SIGTERM: the report of what was read so far is
       written, marked partial; a second Ctrl-C quits at once
  A reader that goes away (\`| head\`) ends the run quietly with status 0.`;
}

/** The help text about --out's FILE.partial. */
export const OUT_FILE_HELP = `
--out FILE is opened before any capture is read, written as FILE.partial and renamed to FILE when
the report is complete; after a write error FILE.partial is removed; when interrupted, it stays
as FILE.partial with the partial report.`;

export interface Run {
  /** Aborted when the run must stop reading: interrupted, or its output failed. */
  readonly signal: AbortSignal;
  /** The signal that interrupted the run, if one did. */
  readonly interrupted: HandledSignal | undefined;
  /** True once an output failed (EPIPE or an error): nothing more is reported. */
  readonly outputFailed: boolean;
  /** Opens standard output or --out (throws an OutputError); its failures end the run. */
  openOutput(path: string | undefined): Output;
  /** A failure of another file the run writes (--write-pcap): ends the run as an output's does. */
  fail(error: OutputError): void;
  /** A line for stderr, escaped; dropped once an output failed. */
  say(line: string): void;
  /**
   * The exit status of a run that would otherwise end with `status`: 2 with the one error line
   * when an output failed, 130/143 when interrupted, 0 when the reader went away. Removes the
   * signal handlers.
   */
  finish(status: number): number;
}

function signalName(sig: HandledSignal): string {
  return sig === 'SIGINT' ? 'Ctrl-C (SIGINT)' : 'SIGTERM';
}

export function startRun(): Run {
  const controller = new AbortController();
  const outputs: Output[] = [];
  const errors: OutputError[] = [];
  let interrupted: HandledSignal | undefined;
  const onSignal = (sig: HandledSignal): void => {
    removeHandlers();
    if (interrupted !== undefined) return;
    interrupted = sig;
    process.stderr.write(
      `lync-port-audit: interrupted by ${signalName(sig)}: reporting what was read so far (${sig === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again quits at once)\n`,
    );
    controller.abort(new Error(`interrupted by ${signalName(sig)}`));
  };
  const removeHandlers = (): void => {
    for (const sig of Object.keys(SIGNALS) as HandledSignal[]) process.off(sig, onSignal);
  };
  for (const sig of Object.keys(SIGNALS) as HandledSignal[]) process.on(sig, onSignal);
  const failed = (): boolean => errors.length > 0 || outputs.some((o) => o.broken);
  const stop = (): void => {
    if (!controller.signal.aborted) controller.abort(new Error('the output failed'));
  };
  return {
    signal: controller.signal,
    get interrupted(): HandledSignal | undefined {
      return interrupted;
    },
    get outputFailed(): boolean {
      return failed();
    },
    openOutput(path: string | undefined): Output {
      const output = openOutput(path, stop);
      outputs.push(output);
      return output;
    },
    fail(error: OutputError): void {
      errors.push(error);
      stop();
    },
    say(line: string): void {
      if (!failed()) process.stderr.write(terminalLine(line) + '\n');
    },
    finish(status: number): number {
      removeHandlers();
      const error = outputs.find((o) => o.error !== undefined)?.error ?? errors[0];
      if (error !== undefined) {
        process.stderr.write(terminalLine(`lync-port-audit: ${error.message}`) + '\n');
        return EXIT.error;
      }
      if (interrupted !== undefined) return 128 + SIGNALS[interrupted];
      if (outputs.some((o) => o.closedByReader)) return EXIT.ok;
      return status;
    },
  };
}

/** One line for stderr, escaped (for messages outside a run: usage and input errors). */
export function sayLine(line: string): void {
  process.stderr.write(terminalLine(line) + '\n');
}

export { OutputError };
