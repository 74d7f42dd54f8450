import { readFileSync } from 'node:fs';

/** The version in package.json, for --version and the reports' header ('unknown' if it cannot be read). */
export function packageVersion(): string {
  try {
    return (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}
