import { Command, CommanderError } from 'commander';
import { LockdownError } from '../core/errors.js';
import { ExitCode } from './exit-codes.js';
import { applyHeapPolicy } from './heap-policy.js';
import { log } from './output.js';
import { VERSION } from './version.js';

/** nmap habits: `-iL file` is `--input-list file` (commander's short flags are one letter). */
export function normaliseArgv(argv: string[]): string[] {
  return argv.map((a) => (a === '-iL' ? '--input-list' : a));
}

type Register = (program: Command, setExit: (code: number) => void) => void;

/**
 * Each command's module, loaded only when that command runs: a scan does not load the mailer, the XML
 * importer or the GeoIP reader, which keeps start-up time and baseline memory down.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  scan: async () => (await import('./commands/scan.js')).registerScan,
  findings: async () => (await import('./commands/findings.js')).registerFindings,
  import: async () => (await import('./commands/import.js')).registerImport,
  show: async () => (await import('./commands/show.js')).registerShow,
  scans: async () => (await import('./commands/scans.js')).registerScans,
  audit: async () => (await import('./commands/audit.js')).registerAudit,
  attribute: async () => (await import('./commands/attribute.js')).registerAttribute,
  case: async () => (await import('./commands/case.js')).registerCase,
  modules: async () => (await import('./commands/modules.js')).registerModules,
};

/** The program with every command (`only`: just that one, when it names a command). */
export async function buildProgram(setExit: (code: number) => void, only?: string): Promise<Command> {
  const program = new Command();
  program
    .name('lockdown')
    .description('Find databases left open on a network, prove read-only what they expose, and keep watch.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) })
    .addHelpText(
      'after',
      `
Exit codes: 0 done, 1 findings at or above --fail-on, 2 error, 130 interrupted (resumable).

Examples:
  lockdown scan 127.0.0.0/24 -p redis,postgres,mysql,memcached
  lockdown findings --auth open
  lockdown findings --json
  lockdown show 127.0.10.1
  lockdown scans
  lockdown scan --resume <scan-id>
  lockdown attribute 192.0.2.10
  lockdown case open 127.0.10.1:6379/redis --to abuse@example.net
  lockdown case notify <case-id> --smtp-url smtp://mail.example.net:25 --from cert@example.org
  lockdown case reverify
  lockdown case stats`,
    );
  const names = only !== undefined && Object.hasOwn(COMMANDS, only) ? [only] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]!()))) register(program, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  try {
    applyHeapPolicy();
    // Help, an unknown command and `help <command>` get every command; a command gets only its own module.
    const program = await buildProgram((c) => {
      code = c;
    }, argv[0]);
    await program.parseAsync(normaliseArgv(argv), { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.error;
    }
    if (err instanceof LockdownError) {
      log(`lockdown: ${err.message}`);
      return ExitCode.error;
    }
    log(`lockdown: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return ExitCode.error;
  }
}
