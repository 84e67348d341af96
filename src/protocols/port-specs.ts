import { UsageError } from '../core/errors.js';
import { type PortSpec, type Probe } from '../core/types.js';

/**
 * Parse `-p`: a comma-separated list of module names (all their default ports), port numbers
 * (the module whose default ports include it) and `module:port` pairs. Empty → every module's defaults.
 * Duplicates collapse; order is kept.
 */
export function parsePortSpecs(text: string | undefined, probes: readonly Probe[]): PortSpec[] {
  const byName = new Map(probes.map((p) => [p.name, p]));
  const out: PortSpec[] = [];
  const seen = new Set<string>();
  const add = (module: string, port: number): void => {
    const key = `${module}:${port}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ module, port });
  };
  const names = (): string => [...byName.keys()].join(', ');
  if (text === undefined || text.trim() === '') {
    for (const p of probes) for (const port of p.defaultPorts) add(p.name, port);
    return out;
  }
  const parts = text.split(',').map((s) => s.trim());
  parts.forEach((part, i) => {
    const where = `-p item ${i + 1}`;
    if (part === '') throw new UsageError(`Empty entry in -p list at ${where}`);
    const pair = /^([a-z0-9_-]+):(\d+)$/i.exec(part);
    if (pair) {
      const [, name, portText] = pair as unknown as [string, string, string];
      if (!byName.has(name)) throw new UsageError(`Unknown module ${JSON.stringify(name)} at ${where}; known modules: ${names()}`);
      add(name, checkPort(portText, part, where));
      return;
    }
    if (/^\d+$/.test(part)) {
      const port = checkPort(part, part, where);
      const matches = probes.filter((p) => p.defaultPorts.includes(port));
      if (matches.length === 0) {
        throw new UsageError(`No module listens on port ${port} by default (${where}); name one as module:${port}, e.g. redis:${port}`);
      }
      for (const m of matches) add(m.name, port);
      return;
    }
    const probe = byName.get(part.toLowerCase());
    if (!probe) throw new UsageError(`Unknown module ${JSON.stringify(part)} at ${where}; known modules: ${names()}`);
    for (const port of probe.defaultPorts) add(probe.name, port);
  });
  return out;
}

function checkPort(text: string, part: string, where: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`Port out of range in ${JSON.stringify(part)} at ${where}: must be 1-65535`);
  return port;
}
