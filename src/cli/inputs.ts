/**
 * The captures of an `--each` run: files as given, folders (every capture file under them, in
 * name order), and glob patterns ("site-*\/client-*.pcapng", quoted so that the shell leaves them,
 * as batch systems and Windows shells pass them). tinyglobby does the matching.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';

/** File names a folder walk takes as captures (plain or gzip). */
const CAPTURE_NAME = /\.(pcap|pcapng|cap|ntar|dmp)(\.gz)?$/i;

export class InputError extends Error {
  override name = 'InputError';
}

function walk(dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new InputError(
      `${dir}: cannot read the folder: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, out);
    else if (e.isFile() && CAPTURE_NAME.test(e.name)) out.push(path);
  }
}

/**
 * Expands the arguments into capture paths, each once, in the order given (a folder's and a
 * pattern's captures in name order). A name that is neither a file, a folder nor a pattern is
 * kept: reading it reports it as that capture's error, and the others go on.
 */
export function expandInputs(args: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string): void => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const arg of args) {
    if (arg === '-') throw new InputError('--each reads files, not standard input ("-")');
    let isDir = false;
    let exists = false;
    try {
      const st = statSync(arg);
      exists = true;
      isDir = st.isDirectory();
    } catch {
      // not there as a path: maybe a pattern
    }
    if (isDir) {
      const found: string[] = [];
      walk(arg, found);
      if (found.length === 0)
        throw new InputError(`${arg}: no capture files in this folder (*.pcap, *.pcapng, *.cap, and .gz)`);
      found.forEach(add);
    } else if (!exists && isDynamicPattern(arg)) {
      // An absolute pattern gives absolute paths; a relative one, paths relative to here, as typed.
      const found = globSync(arg, {
        onlyFiles: true,
        dot: false,
        expandDirectories: false,
        absolute: isAbsolute(arg),
      }).sort();
      if (found.length === 0) throw new InputError(`${arg}: no file matches this pattern`);
      found.forEach(add);
    } else add(arg);
  }
  return out;
}
