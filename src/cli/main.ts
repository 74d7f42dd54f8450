/**
 * The command line: commander wires the commands; each command module only connects the
 * pipeline stages (capture → decode → flow → recognize → catalog/topology → verdict → report).
 * Exit status: 0 fine, 1 when --fail-on finds something, 2 for usage or input errors.
 */
// First: the GC settings must be in place before the run allocates anything.
import './heap.js';
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerAnalyze } from './analyze.js';
import { registerCatalog } from './catalog.js';
import { registerFlows } from './flows.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lync-port-audit')
    .description(
      'Reads packet captures and tells a Lync / Skype for Business administrator, per server role, which required ports carried traffic, which were blocked, and what traffic nobody expected.',
    )
    .version(version())
    .showHelpAfterError()
    .exitOverride();
  registerAnalyze(program);
  registerFlows(program);
  registerCatalog(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`lync-port-audit: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}

await main(process.argv);
