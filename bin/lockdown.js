#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx's loader (no build step needed after `npm ci`).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Let stdout drain before exiting (large --json output into a pipe).
process.stdout.write('', () => process.exit(code));
