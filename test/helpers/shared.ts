/**
 * Access to ../shared (real public captures, the seed tables, research notes). It is read-only
 * and may be absent on a fresh clone: tests that need it skip with a printed reason.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SHARED_DIR = process.env.LPA_SHARED_DIR ?? resolve(REPO_ROOT, '..', 'shared');
export const CAPTURES_DIR = join(SHARED_DIR, 'captures');
export const SEED_DIR = join(SHARED_DIR, 'seed');

const CAPTURE_EXT = /\.(pcap|pcapng|cap)(\.gz)?$/;

export function sharedAvailable(): boolean {
  return existsSync(CAPTURES_DIR);
}

/** Prints why a group of tests is skipped (vitest shows the skip; this says why). */
export function skipReason(what: string): string | undefined {
  if (sharedAvailable()) return undefined;
  const reason = `${what}: skipped, ${CAPTURES_DIR} is absent (the shared captures are not in this checkout)`;
  console.warn(reason);
  return reason;
}

export function sharedCaptures(): string[] {
  if (!sharedAvailable()) return [];
  return readdirSync(CAPTURES_DIR)
    .filter((f) => CAPTURE_EXT.test(f))
    .sort()
    .map((f) => join(CAPTURES_DIR, f));
}

export function sharedCapture(name: string): string {
  return join(CAPTURES_DIR, name);
}
