/**
 * Files that reports are written to (--out, --write-pcap): opened before any capture is read, so
 * that a path that cannot be written fails at once and not after an hour of reading, and written
 * as FILE.partial, renamed to FILE only when the report is complete, so that FILE is never a
 * report cut short. A device, a FIFO or another non-regular file (/dev/stdout, /dev/null, a
 * named pipe) is written in place: it cannot be renamed onto. Every failure is an OutputError
 * whose message is one line: "cannot write FILE: no space left on device".
 */
import {
  accessSync,
  closeSync,
  constants,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  type Stats,
} from 'node:fs';

export class OutputError extends Error {
  override name = 'OutputError';
  constructor(
    /** The path, or "standard output". */
    readonly target: string,
    /** Why, in words ("no space left on device"). */
    readonly reason: string,
    /** The errno code (ENOSPC), when there is one. */
    readonly code?: string,
  ) {
    super(`cannot write ${target}: ${reason}`);
  }
}

/** The errors a write or an open can end with, in the words of strerror(3) (glibc). */
const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EISDIR: 'is a directory',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EEXIST: 'file exists',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  ENXIO: 'no such device or address',
  ETXTBSY: 'text file busy',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in system',
  EBADF: 'bad file descriptor',
  EPIPE: 'broken pipe',
  ECONNRESET: 'connection reset by peer',
  EAGAIN: 'resource temporarily unavailable',
  EINVAL: 'invalid argument',
};

/** An error from a write or an open, as the end of "cannot write FILE: ..." says it. */
export function writeErrorReason(err: unknown): { reason: string; code?: string } {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code !== undefined && Object.hasOwn(REASONS, code)) return { reason: REASONS[code], code };
  // Node's own: "ENOSPC: no space left on device, write": the words between the code and the call.
  const message = err instanceof Error ? err.message : String(err);
  const words = /^[A-Z0-9_]+: ([^,]+)/.exec(message);
  return { reason: words !== null ? words[1] : message.split('\n')[0], code };
}

export function outputError(target: string, err: unknown): OutputError {
  if (err instanceof OutputError) return err;
  const { reason, code } = writeErrorReason(err);
  return new OutputError(target, reason, code);
}

export interface OutputFile {
  /** The path the user gave. */
  readonly path: string;
  /** Where the bytes go until commit: `path`.partial, or `path` itself for a device or FIFO. */
  readonly writtenPath: string;
  readonly fd: number;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Opens `path` for a report: checks that it is not a directory and can be written, and creates
 * `path`.partial in its directory (which proves the directory exists and is writable). Throws an
 * OutputError.
 */
export function openOutputFile(path: string): OutputFile {
  try {
    const st = statOrUndefined(path);
    if (st?.isDirectory() === true) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st !== undefined && !st.isFile()) return { path, writtenPath: path, fd: openSync(path, 'w') };
    // An existing file the user may not write is not replaced behind their back by the rename.
    if (st !== undefined) accessSync(path, constants.W_OK);
    const writtenPath = `${path}.partial`;
    return { path, writtenPath, fd: openSync(writtenPath, 'w') };
  } catch (err) {
    throw outputError(path, err);
  }
}

/** Closes the file and gives it its name: `path`.partial becomes `path`. Throws an OutputError. */
export function commitOutputFile(file: OutputFile): void {
  try {
    closeSync(file.fd);
    if (file.writtenPath !== file.path) renameSync(file.writtenPath, file.path);
  } catch (err) {
    discardOutputFile(file);
    throw outputError(file.path, err);
  }
}

/** After a failure: closes the file and removes `path`.partial (a device is only closed). */
export function discardOutputFile(file: OutputFile): void {
  try {
    closeSync(file.fd);
  } catch {
    // already closed
  }
  if (file.writtenPath !== file.path) {
    try {
      unlinkSync(file.writtenPath);
    } catch {
      // already gone
    }
  }
}

/** When interrupted: closes the file and leaves what was written under `path`.partial. */
export function keepPartialOutputFile(file: OutputFile): string {
  try {
    closeSync(file.fd);
  } catch {
    // already closed
  }
  return file.writtenPath;
}
