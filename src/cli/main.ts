/**
 * The command line: commander wires the commands; each command module only connects the
 * pipeline stages (capture → decode → flow → recognize → catalog/topology → verdict → report).
 * Exit status: 0 fine, 1 when --fail-on finds something, 2 for usage, input or output errors,
 * 130/143 when Ctrl-C or SIGTERM interrupted the run (run.ts).
 */
// First: the GC settings must be in place before the run allocates anything.
import './heap.js';
import { packageVersion } from './version.js';
import { Command, CommanderError } from 'commander';
import { terminalLine } from '../report/escape.js';
import { exitStatusHelp } from './run.js';
import { guardStandardOutput } from './output.js';

/**
 * The commands in help order, each module loaded only when needed: a run of one command does not
 * load the others' module graphs (analyze's is ~30 ms of every `flows` startup otherwise).
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  analyze: async () => (await import('./analyze.js')).registerAnalyze,
  compare: async () => (await import('./compare.js')).registerCompare,
  flows: async () => (await import('./flows.js')).registerFlows,
  catalog: async () => (await import('./catalog.js')).registerCatalog,
  merge: async () => (await import('./merge.js')).registerMerge,
};

/** The program with every command, or only `command` when that names one (the first argument of a run). */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command();
  program
    .name('lync-port-audit')
    .description(
      'Reads packet captures and tells a Lync / Skype for Business administrator, per server role, which required ports carried traffic, which were blocked, and what traffic nobody expected.',
    )
    .version(packageVersion())
    .showHelpAfterError()
    // Usage errors quote what was typed: escaped like every other line on stderr.
    .configureOutput({ writeErr: (text) => process.stderr.write(terminalLine(text)) })
    .addHelpText('after', exitStatusHelp(true, 'analyze or merge '))
    .exitOverride();
  const names = command !== undefined && Object.hasOwn(COMMANDS, command) ? [command] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]())(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  // A closed stderr (2>&- or a reader that went away) must not turn into an uncaught exception.
  process.stderr.on('error', () => undefined);
  guardStandardOutput();
  const program = await buildProgram(argv[2]);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(
      terminalLine(`lync-port-audit: ${err instanceof Error ? err.message : String(err)}`) + '\n',
    );
    process.exitCode = 2;
  }
}

await main(process.argv);
