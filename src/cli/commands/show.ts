import { type Command } from 'commander';
import { NotFoundError } from '../../core/errors.js';
import { withStore, type CommonOptions } from '../context.js';
import { outputFormat, writeJson, writeOut } from '../output.js';
import { findingsTable } from '../render.js';

interface ShowOptions extends CommonOptions {
  json?: boolean;
}

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('Everything known about one host: its services, verdicts, evidence, metadata and replication peers')
    .argument('<host>', 'IP address as stored')
    .option('--json', 'JSON document')
    .option('--db <path>', 'SQLite store')
    .action(async (host: string, opts: ShowOptions) => {
      const format = outputFormat(opts);
      const found = await withStore(opts, (store) => store.getHost(host));
      if (!found) throw new NotFoundError(`No host ${host} in the store; \`lockdown findings\` lists what is there`);
      if (format !== 'table') {
        writeJson(found);
        return;
      }
      const lines: string[] = [];
      lines.push(`${found.host.host}${found.host.hostname ? ` (${found.host.hostname})` : ''}`);
      lines.push(`first seen ${found.host.firstSeen}, last seen ${found.host.lastSeen}`);
      for (const h of found.host.honeypot ?? []) lines.push(`likely a honeypot (${h.ruleId}): ${h.reason} — ${h.reference}`);
      lines.push(findingsTable(found.findings));
      for (const f of found.findings) {
        lines.push('');
        lines.push(`${f.module} on port ${f.port}: ${f.auth ?? f.status}${f.product ? ` — ${f.product} ${f.version ?? ''}` : ''}`);
        if (f.evidence) lines.push(`  evidence: ${f.evidence}`);
        if (f.errors.length > 0) lines.push(`  errors: ${f.errors.join('; ')}`);
        const a = f.assessment;
        if (a) {
          lines.push(`  severity: ${a.severity} (score ${a.score})`);
          for (const r of a.reasons) lines.push(`    ${r}`);
          if (a.sensitive.length > 0) {
            lines.push('  sensitive data:');
            for (const s of a.sensitive) {
              const where = s.paths && s.paths.length > 0 ? ` in ${s.paths.slice(0, 3).join(', ')}${s.paths.length > 3 ? ', …' : ''}` : '';
              lines.push(`    ${s.category}: ${s.count ?? '?'} (${s.source === 'sample' ? 'seen in sampled values' : 'from names'})${where}`);
            }
          }
          if (a.compromised || a.compromise.length > 0) {
            lines.push(`  compromise signs${a.compromised ? ' — looks compromised' : ''}:`);
            for (const m of a.compromise) lines.push(`    [${m.strength}] ${m.ruleId}: ${m.description} — ${m.evidence}`);
          }
        }
        if (f.peers.length > 0) {
          const n = f.peers.length;
          lines.push(`  this ${f.product ?? f.module} server names ${n} other server${n === 1 ? '' : 's'} its data replicates with:`);
          for (const p of f.peers) lines.push(`    ${p.role.padEnd(8)} ${p.host}${p.port ? `:${p.port}` : ''}  (${p.source})`);
        }
        const meta = JSON.stringify(f.metadata, null, 2).split('\n').map((l) => '  ' + l);
        lines.push('  metadata:', ...meta);
      }
      writeOut(lines.join('\n'));
    });
}
