#!/usr/bin/env node
// Entry point. Runs the compiled dist/ (fast start) when it is at least as new as every source file;
// otherwise — or with LOCKDOWN_FROM_SOURCE=1 — runs the TypeScript sources through tsx's loader.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = `${root}dist/.build-stamp`;

function newestSourceMtime() {
  const src = `${root}src`;
  if (!existsSync(src)) return 0;
  let newest = 0;
  for (const f of readdirSync(src, { recursive: true })) {
    // Sources and the rule data files they import (a rule edit must not run stale compiled rules).
    if (!/\.(ts|json|ya?ml)$/.test(String(f))) continue;
    const t = statSync(`${src}/${f}`).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

let main;
if (!process.env.LOCKDOWN_FROM_SOURCE && existsSync(stamp) && statSync(stamp).mtimeMs >= newestSourceMtime()) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
const code = await main(process.argv.slice(2));
// Let stdout drain before exiting (large --json output into a pipe).
process.stdout.write('', () => process.exit(code));
