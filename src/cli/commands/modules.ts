import { type Command } from 'commander';
import { PROBES } from '../../protocols/registry.js';
import { outputFormat, renderTable, writeJson, writeOut } from '../output.js';

export function registerModules(program: Command): void {
  program
    .command('modules')
    .description('List the protocol modules, their default ports and every command each may send')
    .option('--json', 'JSON array')
    .action((opts: { json?: boolean }) => {
      const rows = PROBES.map((p) => ({
        name: p.name,
        transport: p.transport,
        defaultPorts: p.defaultPorts,
        description: p.description,
        allowedCommands: p.allowedCommands,
      }));
      if (outputFormat(opts) !== 'table') {
        writeJson(rows);
        return;
      }
      writeOut(
        renderTable(
          ['MODULE', 'PORTS', 'DESCRIPTION', 'MAY SEND (allow-list)'],
          rows.map((r) => [r.name, r.defaultPorts.join(','), r.description, r.allowedCommands.join(', ')]),
        ),
      );
    });
}
