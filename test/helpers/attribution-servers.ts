/**
 * Real servers for the attribution tests, all on loopback 127.0.40.x and stopped by the test:
 * Debian's dnsmasq answering PTR queries, a silent UDP "DNS server", node:http/node:https servers,
 * a self-signed certificate from openssl, and .mmdb files written by MaxMind's Perl writer.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DNS_ADDRESS = '127.0.40.1';
export const TARGET_ADDRESS = '127.0.40.2';
export const REGISTRY_A_ADDRESS = '127.0.40.3';
export const REGISTRY_B_ADDRESS = '127.0.40.4';

export const DNSMASQ = '/usr/sbin/dnsmasq';

/** A UDP port free on `address` right now (the OS picks it; the socket is closed before returning). */
export async function freeUdpPort(address: string): Promise<number> {
  const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The reverse-DNS name of an address: `10.2.0.192.in-addr.arpa`, nibbles for IPv6. */
export function reverseName(ip: string): string {
  if (!ip.includes(':')) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const nibbles = groups.map((g) => g.padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

export interface Dnsmasq {
  /** `address:port`, for `AttributionConfig.dnsServers`. */
  server: string;
  /** PTR queries the server logged so far (its `--log-queries` lines). */
  ptrQueries(): number;
  stop(): Promise<void>;
}

/**
 * dnsmasq answering only from the given PTR records: `--local` for the reverse zones makes every
 * other reverse name NXDOMAIN instead of a forward attempt (there is no upstream: `--no-resolv`).
 */
export async function startDnsmasq(records: readonly [ip: string, name: string][]): Promise<Dnsmasq> {
  // The port is free for UDP when picked, but dnsmasq binds TCP too and another test may take it
  // in between: try a few ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnDnsmasq(records, await freeUdpPort(DNS_ADDRESS));
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test(String(err))) throw err;
    }
  }
}

async function spawnDnsmasq(records: readonly [ip: string, name: string][], port: number): Promise<Dnsmasq> {
  const args = [
    '--keep-in-foreground',
    '--log-facility=-',
    '--log-queries',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--user=root',
    `--listen-address=${DNS_ADDRESS}`,
    '--bind-interfaces',
    `--port=${port}`,
    '--no-resolv',
    '--no-hosts',
    '--local=/in-addr.arpa/',
    '--local=/ip6.arpa/',
    ...records.map(([ip, name]) => `--ptr-record=${reverseName(ip)},${name}`),
  ];
  const child: ChildProcess = spawn(DNSMASQ, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // If the test process dies first, dnsmasq goes with it.
  const killOnExit = (): void => void child.kill('SIGTERM');
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exited;
  };
  // Ready when it logs that it started; fail fast when it exits instead.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`dnsmasq did not start within 5 s:\n${log}`));
      void stop();
    }, 5000);
    const check = (): void => {
      if (/started, version/.test(log) && /cleared cache|using only locally-known/.test(log)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr!.on('data', check);
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      process.removeListener('exit', killOnExit);
      reject(new Error(`dnsmasq exited with code ${code}:\n${log}`));
    });
  });
  return {
    server: `${DNS_ADDRESS}:${port}`,
    ptrQueries: () => (log.match(/query\[PTR\]/g) ?? []).length,
    stop,
  };
}

/** A UDP port that receives DNS queries and never answers (a filtered or dead resolver). */
export async function startSilentUdp(): Promise<{ server: string; received(): number; close(): Promise<void> }> {
  const s = dgram.createSocket('udp4');
  let received = 0;
  s.on('message', () => received++);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, DNS_ADDRESS, () => resolve());
  });
  return {
    server: `${DNS_ADDRESS}:${s.address().port}`,
    received: () => received,
    close: () => new Promise<void>((resolve) => s.close(() => resolve())),
  };
}

export interface TestHttpServer {
  port: number;
  /** `http://127.0.40.x:port/` (or https). */
  base: string;
  /** `METHOD path` of every request received, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** A node:http (or node:https with `tls`) server on `address`, port chosen by the OS. */
export async function startHttp(
  address: string,
  handler: (req: http.IncomingMessage, res: http.ServerResponse, server: TestHttpServer) => void,
  tls?: { key: string; cert: string },
  port = 0,
): Promise<TestHttpServer> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const self: TestHttpServer = { port: 0, base: '', requests, close: async () => {} };
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    requests.push(`${req.method ?? '?'} ${req.url ?? '?'}`);
    handler(req, res, self);
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, listener) : http.createServer(listener);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  self.port = (server.address() as net.AddressInfo).port;
  self.base = `${tls ? 'https' : 'http'}://${address}:${self.port}/`;
  self.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return self;
}

/** A TCP port that accepts connections and never says anything. */
export async function startSilentTcp(address: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP port on `address` where nothing listens (bound, then closed). */
export async function closedTcpPort(address: string): Promise<number> {
  const s = await startSilentTcp(address);
  await s.close();
  return s.port;
}

/** A throwaway self-signed certificate for `CN=address`, made with openssl. */
export function selfSignedCert(address: string): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', `/CN=${address}`, '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface MmdbFiles {
  dir: string;
  asn: string;
  country: string;
  city: string;
  /** A Country-shaped database, to pass where an ASN database is expected. */
  notAsn: string;
}

/** Runs test/fixtures/mmdb/write-mmdb.pl (MaxMind::DB::Writer) into a fresh directory. */
export function writeTestMmdb(): MmdbFiles {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-mmdb-'));
  const script = fileURLToPath(new URL('../fixtures/mmdb/write-mmdb.pl', import.meta.url));
  execFileSync('perl', [script, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    dir,
    asn: path.join(dir, 'test-asn.mmdb'),
    country: path.join(dir, 'test-country.mmdb'),
    city: path.join(dir, 'test-city.mmdb'),
    notAsn: path.join(dir, 'not-asn.mmdb'),
  };
}

/** A fixture from test/fixtures/rdap as text. */
export function rdapFixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../fixtures/rdap/${name}`, import.meta.url)), 'utf8');
}

/** Two RDAP servers on loopback: A is what the bootstrap names (ARIN-like), B another registry (RIPE-like). */
export async function startRegistries(): Promise<{ a: TestHttpServer; b: TestHttpServer; close(): Promise<void> }> {
  const json = (res: http.ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'application/rdap+json' });
    res.end(body);
  };
  const b = await startHttp(REGISTRY_B_ADDRESS, (req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === '/ip/198.51.100.7' || p === '/ip/198.51.100.8') return json(res, 200, rdapFixture('ripe-ip-network.json'));
    if (p === '/ip/203.0.113.4') {
      res.writeHead(302, { location: `http://${REGISTRY_A_ADDRESS}:${a.port}/registry/ip/203.0.113.4` });
      return res.end();
    }
    return json(res, 404, rdapFixture('error-404.json'));
  });
  const a: TestHttpServer = await startHttp(REGISTRY_A_ADDRESS, (req, res, self) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const ip = decodeURIComponent(u.pathname.replace(/^\/registry\/ip\//, ''));
    const referral = (): string =>
      rdapFixture('referral-related.json')
        .replaceAll('{{SELF}}', `${self.base}registry/ip/${ip}`)
        .replaceAll('{{REGISTRY_B}}', b.base)
        .replaceAll('{{IP}}', ip);
    switch (ip) {
      case '192.0.2.10':
      case '192.0.2.11':
        return json(res, 200, rdapFixture('arin-ip-network.json'));
      case '127.0.40.2':
        return json(res, 200, rdapFixture('apnic-ip-network.json'));
      case '2001:db8::1':
        return json(res, 200, rdapFixture('rfc9083-ip-network.json'));
      case '198.51.100.7':
        res.writeHead(301, { location: `${b.base}ip/198.51.100.7` });
        return res.end();
      case '198.51.100.8':
      case '203.0.113.6':
        return json(res, 200, referral());
      case '203.0.113.1':
        return json(res, 404, rdapFixture('error-404.json'));
      case '203.0.113.2':
        return json(res, 200, rdapFixture('malformed.json.txt'));
      case '203.0.113.3':
        return; // never answers
      case '203.0.113.4':
        res.writeHead(302, { location: `${b.base}ip/203.0.113.4` });
        return res.end();
      case '203.0.113.5': {
        const n = Number(u.searchParams.get('n') ?? '0');
        res.writeHead(307, { location: `/registry/ip/203.0.113.5?n=${n + 1}` });
        return res.end();
      }
      case '203.0.113.7':
        res.writeHead(200, { 'content-type': 'application/rdap+json' });
        return res.end(Buffer.alloc(3 * 1024 * 1024, 0x20));
      case '203.0.113.8':
        res.writeHead(429, { 'retry-after': '60' });
        return res.end();
      case '203.0.113.9':
        res.writeHead(302);
        return res.end();
      default:
        return json(res, 404, rdapFixture('error-404.json'));
    }
  });
  return {
    a,
    b,
    async close() {
      await a.close();
      await b.close();
    },
  };
}

/** An IANA-format bootstrap directory naming registry A (without the trailing slash, as old files did). */
export function writeTestBootstrap(aBase: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockdown-bootstrap-'));
  const url = `${aBase}registry`;
  writeFileSync(
    path.join(dir, 'ipv4.json'),
    JSON.stringify({
      description: 'RDAP bootstrap file for IPv4 address allocations',
      publication: '2026-01-01T00:00:00Z',
      services: [[['127.0.0.0/8', '192.0.0.0/8', '198.0.0.0/8', '203.0.0.0/8'], [url]]],
      version: '1.0',
    }),
  );
  writeFileSync(
    path.join(dir, 'ipv6.json'),
    JSON.stringify({
      description: 'RDAP bootstrap file for IPv6 address allocations',
      publication: '2026-01-02T00:00:00Z',
      services: [[['2001:db8::/32'], [url]]],
      version: '1.0',
    }),
  );
  return dir;
}
