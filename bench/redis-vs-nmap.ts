/**
 * `npm run bench`: lockdown against nmap on the same targets, in the same run.
 *
 * One real redis-server answers on every address of a 127.x block. To keep it off the machine's real
 * interfaces it runs inside a network namespace made for it, whose only interface is loopback: there,
 * binding 0.0.0.0 means "every 127.0.0.0/8 address and nothing else". Each tool runs on the same target
 * list in a fresh namespace with a fresh server; each tool's successes are counted from its own output
 * so all did the same work. A bare Node loop (bench/bare-connect-loop.mjs) shows the machine's ceiling.
 * Needs root (ip netns), Debian's redis-server, nmap and GNU time.
 *
 * Environment: BENCH_ADDRESSES (default 16384, a power of two), BENCH_CONCURRENCY (default 1000), BENCH_BIG_INFLIGHT (default 4096).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ADDRESSES = Number(process.env.BENCH_ADDRESSES ?? 16384);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1000);
const BIG_INFLIGHT = Number(process.env.BENCH_BIG_INFLIGHT ?? 4096);
const ns = `lockdown-bench-${process.pid}`;
const work = mkdtempSync(path.join(tmpdir(), 'lockdown-bench-'));

interface Measured {
  tool: string;
  command: string;
  probes: number;
  successes: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  /** CPU seconds the one redis-server spent while this tool ran (the server shares the machine). */
  serverCpuSeconds: number;
}

let redisPid: number | undefined;

/** utime + stime of the redis-server process, in seconds. */
function serverCpu(): number {
  if (redisPid === undefined) return 0;
  const fields = readFileSync(`/proc/${redisPid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${r.status}`);
}

/** The CIDR block covering `n` addresses (n a power of two) from 127.1.0.0. */
function block(n: number): string {
  const bits = Math.log2(n);
  if (!Number.isInteger(bits)) throw new Error('BENCH_ADDRESSES must be a power of two');
  return `127.1.0.0/${32 - bits}`;
}

/** Run a command in the namespace under GNU time; returns stdout and the measured resources. */
function timed(args: string[]): Promise<{ stdout: string; seconds: number; cpuSeconds: number; peakRssMb: number; serverCpuSeconds: number }> {
  const timeFile = path.join(work, `time-${Date.now()}`);
  const serverBefore = serverCpu();
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, '/usr/bin/time', '-f', '%e %U %S %M', '-o', timeFile, 'bash', '-c', 'ulimit -n $(ulimit -Hn); exec "$@"', 'bench', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && code !== 1) {
        reject(new Error(`${args[0]} exited with ${code}`));
        return;
      }
      const [e, u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number, number];
      resolve({ stdout: Buffer.concat(out).toString('utf8'), seconds: e, cpuSeconds: u + s, peakRssMb: m / 1024, serverCpuSeconds: serverCpu() - serverBefore });
    });
  });
}

async function runLockdown(targets: string, concurrency: number, label: string): Promise<Measured> {
  const db = path.join(work, `${label}.db`);
  const args = [
    process.execPath,
    path.join(root, 'bin/lockdown.js'),
    'scan',
    targets,
    '-p',
    'redis',
    '--concurrency',
    String(concurrency),
    '--rate',
    '100000',
    '--timeout',
    '20000',
    '--db',
    db,
    '--ndjson',
    '--no-progress',
  ];
  const r = await timed(args);
  const lines = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { auth: string | null; version: string | null });
  const successes = lines.filter((l) => l.auth === 'open' && l.version).length;
  return { tool: label, command: `lockdown scan ${targets} -p redis --concurrency ${concurrency}`, probes: ADDRESSES, successes, ...pick(r) };
}

async function runNmap(targets: string): Promise<Measured> {
  const args = ['nmap', '-n', '-Pn', '-sT', '-p6379', '--script', 'redis-info', '-oX', '-', targets];
  const r = await timed(args);
  // Count hosts whose redis-info script reported a version: the same "verified open Redis" as lockdown's.
  const successes = (r.stdout.match(/<script id="redis-info" output="[^"]*Version/g) ?? []).length;
  return { tool: 'nmap', command: args.join(' '), probes: ADDRESSES, successes, ...pick(r) };
}

async function runBare(concurrency: number): Promise<Measured> {
  const args = [process.execPath, path.join(root, 'bench/bare-connect-loop.mjs'), '127.1.0.0', String(ADDRESSES), String(concurrency)];
  const r = await timed(args);
  const successes = (JSON.parse(r.stdout.trim() || '{"verified":0}') as { verified: number }).verified;
  return { tool: `bare Node loop c=${concurrency}`, command: 'node bench/bare-connect-loop.mjs', probes: ADDRESSES, successes, ...pick(r) };
}

function pick(r: Pick<Measured, 'seconds' | 'cpuSeconds' | 'peakRssMb' | 'serverCpuSeconds'>): Pick<Measured, 'seconds' | 'cpuSeconds' | 'peakRssMb' | 'serverCpuSeconds'> {
  return { seconds: r.seconds, cpuSeconds: r.cpuSeconds, peakRssMb: r.peakRssMb, serverCpuSeconds: r.serverCpuSeconds };
}

function row(m: Measured): string {
  const rate = m.successes / Math.max(m.seconds, 0.001);
  const cpuPer1000 = (m.cpuSeconds / Math.max(m.successes, 1)) * 1000;
  const serverPer1000 = (m.serverCpuSeconds / Math.max(m.successes, 1)) * 1000;
  return [
    m.tool.padEnd(24),
    `${m.successes}/${m.probes}`.padStart(11),
    `${m.seconds.toFixed(2)} s`.padStart(10),
    `${rate.toFixed(0)}/s`.padStart(9),
    `${cpuPer1000.toFixed(2)} cpu-s`.padStart(13),
    `${serverPer1000.toFixed(2)} cpu-s`.padStart(13),
    `${m.peakRssMb.toFixed(0)} MB`.padStart(8),
  ].join('  ');
}

/**
 * Run one tool in a namespace of its own with a fresh redis-server, so no tool inherits another's
 * kernel state (tens of thousands of TIME_WAIT sockets) or a server that has already served a run.
 */
async function inFreshNamespace<T>(run: () => Promise<T>): Promise<T> {
  sh('ip', ['netns', 'add', ns]);
  let redis: ReturnType<typeof spawn> | undefined;
  try {
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    redis = spawn(
      'ip',
      ['netns', 'exec', ns, 'bash', '-c', 'ulimit -n $(ulimit -Hn); exec redis-server --bind 0.0.0.0 --port 6379 --save "" --appendonly no --protected-mode no --maxclients 20000 --tcp-backlog 4096 --dir "$0"', work],
      { stdio: 'ignore' },
    );
    redisPid = redis.pid;
    await new Promise((r) => setTimeout(r, 500));
    // seed a few keys so INFO has a keyspace to report
    sh('ip', ['netns', 'exec', ns, 'redis-cli', '-h', '127.0.0.1', 'mset', 'a', '1', 'b', '2', 'c', '3']);
    return await run();
  } finally {
    redis?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    spawnSync('ip', ['netns', 'pids', ns])
      .stdout.toString()
      .split('\n')
      .filter(Boolean)
      .forEach((pid) => spawnSync('kill', ['-9', pid]));
    spawnSync('ip', ['netns', 'del', ns]);
    redisPid = undefined;
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('The benchmark needs root to make its network namespace (ip netns)');
  const targets = block(ADDRESSES);
  try {
    console.log(
      `Targets: ${targets} (${ADDRESSES} addresses, one redis-server in a namespace of its own for each tool); machine: ${spawnSync('nproc').stdout.toString().trim()} cores`,
    );
    const lockdown = await inFreshNamespace(() => runLockdown(targets, CONCURRENCY, `lockdown c=${CONCURRENCY}`));
    const nmap = await inFreshNamespace(() => runNmap(targets));
    const big = await inFreshNamespace(() => runLockdown(targets, BIG_INFLIGHT, `lockdown c=${BIG_INFLIGHT}`));
    const bare = await inFreshNamespace(() => runBare(CONCURRENCY));

    console.log('');
    console.log(
      `${'tool'.padEnd(24)}  ${'verified'.padStart(11)}  ${'wall'.padStart(10)}  ${'probes/s'.padStart(9)}  ${'CPU per 1000'.padStart(13)}  ${'server CPU'.padStart(13)}  ${'peak RSS'.padStart(8)}`,
    );
    for (const m of [lockdown, nmap, big, bare]) console.log(row(m));
    const rate = (m: Measured): number => m.successes / Math.max(m.seconds, 0.001);
    const ratio = rate(lockdown) / rate(nmap);
    console.log('');
    console.log(`nmap command: ${nmap.command}`);
    console.log(`lockdown/nmap probes/s at concurrency ${CONCURRENCY}: ${ratio.toFixed(1)}x (bar: >= 10x)`);
    console.log(
      `machine ceiling (bare connect + INFO + close loop, no scanner): ${(rate(bare) / rate(nmap)).toFixed(1)}x nmap; lockdown reaches ${((100 * rate(lockdown)) / rate(bare)).toFixed(0)}% of it`,
    );
    console.log(`lockdown peak RSS at ${BIG_INFLIGHT} in flight: ${big.peakRssMb.toFixed(0)} MB (bar: <= 250 MB)`);
    if (lockdown.successes !== ADDRESSES || nmap.successes !== ADDRESSES) {
      console.log(`note: not every address was verified (lockdown ${lockdown.successes}, nmap ${nmap.successes} of ${ADDRESSES}); rates count verified ones only`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
