#!/usr/bin/env node
// Compile src/ to dist/ and leave a stamp dated to the start of the build: bin/lockdown.js runs the
// compiled code only while no source file is newer than the stamp (otherwise it runs the sources).
import { spawnSync } from 'node:child_process';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const started = new Date();
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
mkdirSync(path.join(root, 'dist'), { recursive: true });
const stamp = path.join(root, 'dist', '.build-stamp');
writeFileSync(stamp, started.toISOString() + '\n');
utimesSync(stamp, started, started);
