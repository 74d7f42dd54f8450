// Runs the built CLI (dist/cli/bundle.js) with the arguments given and, as it exits, writes its
// peak resident set size in KB (getrusage ru_maxrss) to the file named by LPA_PEAK_RSS_FILE: a
// memory bound the tests can check without /usr/bin/time.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const out = process.env.LPA_PEAK_RSS_FILE;
  if (out) writeFileSync(out, String(process.resourceUsage().maxRSS));
});
await import('../../dist/cli/bundle.js');
