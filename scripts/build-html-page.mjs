/**
 * Part of `npm run build`: bundles the HTML report's page script (src/report/browser/page.ts,
 * typed against the DOM by tsconfig.browser.json) into one minified script,
 * dist/report/html-page.js, which src/report/html.ts inlines into every page and names by its
 * SHA-256 in the page's Content-Security-Policy.
 */
import { buildSync } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
buildSync({
  entryPoints: [`${root}src/report/browser/page.ts`],
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  outfile: `${root}dist/report/html-page.js`,
  logLevel: 'warning',
});
