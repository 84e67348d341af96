import { Command, CommanderError } from 'commander';
import { LockdownError } from '../core/errors.js';
import { registerAttribute } from './commands/attribute.js';
import { registerAudit } from './commands/audit.js';
import { registerCase } from './commands/case.js';
import { registerFindings } from './commands/findings.js';
import { registerImport } from './commands/import.js';
import { registerModules } from './commands/modules.js';
import { registerScan } from './commands/scan.js';
import { registerScans } from './commands/scans.js';
import { registerShow } from './commands/show.js';
import { ExitCode } from './exit-codes.js';
import { log } from './output.js';
import { VERSION } from './version.js';

/** nmap habits: `-iL file` is `--input-list file` (commander's short flags are one letter). */
export function normaliseArgv(argv: string[]): string[] {
  return argv.map((a) => (a === '-iL' ? '--input-list' : a));
}

export function buildProgram(setExit: (code: number) => void): Command {
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
  registerScan(program, setExit);
  registerFindings(program, setExit);
  registerImport(program, setExit);
  registerShow(program);
  registerScans(program);
  registerAudit(program);
  registerAttribute(program);
  registerCase(program, setExit);
  registerModules(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
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
