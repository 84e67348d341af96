import { type Command } from 'commander';
import { identityString } from '../../config/config.js';
import { VERSION } from '../../core/version.js';
import { attribute, type Attribution } from '../../disclose/attribution/index.js';
import { createAttributionCache } from '../../store/attribution-cache.js';
import { commonConfig, withStore, type CommonOptions } from '../context.js';
import { outputFormat, writeJson, writeOut } from '../output.js';

interface AttributeOptions extends CommonOptions {
  json?: boolean;
  cache?: boolean;
}

export function registerAttribute(program: Command): void {
  program
    .command('attribute')
    .description('Who owns an address and how to reach them: reverse DNS, RDAP (abuse contact), .mmdb ASN/country, security.txt')
    .argument('<ip...>', 'one or more IP addresses')
    .option('--json', 'JSON array')
    .option('--no-cache', 'ask every source again, ignoring cached answers')
    .option('--db <path>', 'SQLite store (holds the attribution cache)')
    .option('--config <file>', 'config file (attribution: dnsServers, mmdb paths, timeouts, cache TTL)')
    .addHelpText('after', '\nExamples:\n  lockdown attribute 192.0.2.10\n  lockdown attribute 192.0.2.10 2001:db8::1 --json')
    .action(async (ips: string[], opts: AttributeOptions) => {
      const format = outputFormat(opts);
      const config = commonConfig(opts);
      const results = await withStore(opts, async (store) => {
        const cache = opts.cache === false ? undefined : createAttributionCache(store.kysely(), store.label);
        const out: Attribution[] = [];
        for (const ip of ips) {
          out.push(await attribute(ip, config.attribution, { userAgent: identityString(config, VERSION), ...(cache ? { cache } : {}) }));
        }
        return out;
      });
      if (format !== 'table') {
        writeJson(results);
        return;
      }
      writeOut(results.map(describe).join('\n\n'));
    });
}

function describe(a: Attribution): string {
  const lines = [a.ip];
  if (a.ptr.length > 0) lines.push(`  reverse DNS: ${a.ptr.join(', ')}`);
  if (a.rdap) lines.push(`  network: ${[a.rdap.name, a.rdap.handle, a.rdap.cidr, a.rdap.country].filter(Boolean).join(' · ')}`);
  if (a.asn) lines.push(`  AS${a.asn.number}${a.asn.org ? ` ${a.asn.org}` : ''}`);
  if (a.geo) lines.push(`  country: ${a.geo.country ?? '?'}${a.geo.city ? `, ${a.geo.city}` : ''}`);
  for (const c of a.contacts) lines.push(`  contact: ${c.email} (${c.role}, from ${c.source})`);
  if (a.contacts.length === 0) lines.push('  no contact found');
  for (const e of a.errors) lines.push(`  ! ${e}`);
  return lines.join('\n');
}
