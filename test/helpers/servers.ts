import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * Addresses and credentials of the test servers, read from test/servers/servers.env
 * (the same file the start scripts source), with environment overrides.
 */
function loadServersEnv(): Record<string, string> {
  const file = fileURLToPath(new URL('../servers/servers.env', import.meta.url));
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^: "\$\{([A-Z0-9_]+):=(.*)\}"$/.exec(line.trim());
    if (!m) continue;
    const [, key, value] = m as unknown as [string, string, string];
    out[key] = process.env[key] ?? value.replace(/\$\{TMPDIR:-\/tmp\}/, process.env.TMPDIR ?? '/tmp');
  }
  return out;
}

export const servers = loadServersEnv();

export function env(key: string): string {
  const v = servers[key];
  if (v === undefined) throw new Error(`test/servers/servers.env has no ${key}`);
  return v;
}

/**
 * Fail fast with a helpful message when a test server is not up
 * (`npm test` starts them; `npm run servers:start` starts them by hand).
 */
export async function requireServer(host: string, port: number, what: string): Promise<void> {
  const ok = await new Promise<boolean>((resolve) => {
    const s = net.connect({ host, port });
    const done = (v: boolean): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(2000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
  if (!ok) throw new Error(`Test server ${what} is not listening on ${host}:${port}; run \`npm run servers:start\` first`);
}
