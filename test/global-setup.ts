/**
 * Builds the compiled CLI once before the test files run: the end-to-end tests execute
 * bin/lync-port-audit exactly as a user would, against dist/ (and its one-file bundle).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}
