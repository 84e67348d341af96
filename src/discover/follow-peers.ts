/**
 * --follow-peers: the replication peers a server names (replica-set members, cluster nodes, Redis
 * replicas …) are where its data flows. Peers inside `scope.authorized` or inside the scan's own target
 * set are probed too, in follow-up scans; the others are only listed (they stay in the finding's peers).
 */
import { isIP } from 'node:net';
import { type Peer } from '../core/types.js';
import { type Store } from '../store/store.js';
import { ExclusionSet } from '../targets/exclusion.js';
import { defaultResolve } from '../targets/resolve.js';
import { eachFinding } from '../store/paging.js';

export interface PeerGroup {
  module: string;
  port: number;
  hosts: string[];
}

export interface PeerPlan {
  /** Peers to probe, grouped by module and port (one follow-up scan each). */
  groups: PeerGroup[];
  /** Peers named but not probed: outside the authorized scope and the scan's targets, or unresolvable. */
  listedOnly: { peer: Peer; of: string; why: string }[];
}

export interface PeerPlanOptions {
  /** `scope.authorized` ranges. */
  authorized: string[];
  /** The scan's own target ranges (`a-b` strings from its target space). */
  targetRanges: string[];
  /** Services already probed (host:port/module), not queued again. */
  alreadyProbed: ReadonlySet<string>;
  defaultPort: (module: string) => number | undefined;
  resolve?: (hostname: string) => Promise<string[]>;
}

/** Which peers of a scan's findings to probe next. */
export async function planPeers(store: Store, scanId: string, opts: PeerPlanOptions): Promise<PeerPlan> {
  const scope = ExclusionSet.fromSpecs([
    ...opts.authorized.map((text, i) => ({ text, source: `scope.authorized[${i}]` })),
    ...opts.targetRanges.map((text, i) => ({ text, source: `scan target range ${i + 1}` })),
  ]);
  const resolve = opts.resolve ?? defaultResolve;
  const groups = new Map<string, PeerGroup>();
  const listedOnly: PeerPlan['listedOnly'] = [];
  // Paged: a scan with a million answered services is never loaded whole.
  for await (const f of eachFinding(store, { scanId })) {
    for (const peer of f.peers) {
      const port = peer.port ?? opts.defaultPort(f.module);
      const of = `${f.host}:${f.port}/${f.module}`;
      if (port === undefined) {
        listedOnly.push({ peer, of, why: 'no port known' });
        continue;
      }
      let addresses: string[];
      try {
        addresses = isIP(peer.host) ? [peer.host] : await resolve(peer.host);
      } catch (err) {
        listedOnly.push({ peer, of, why: `cannot resolve: ${(err as Error).message}` });
        continue;
      }
      for (const host of addresses) {
        if (!scope.has(host)) {
          listedOnly.push({ peer, of, why: 'outside scope.authorized and the scan’s targets' });
          continue;
        }
        if (opts.alreadyProbed.has(`${host}:${port}/${f.module}`)) continue;
        const key = `${f.module}:${port}`;
        const g = groups.get(key) ?? { module: f.module, port, hosts: [] };
        if (!g.hosts.includes(host)) g.hosts.push(host);
        groups.set(key, g);
      }
    }
  }
  return { groups: [...groups.values()], listedOnly };
}
