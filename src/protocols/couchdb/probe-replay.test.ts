/**
 * The CouchDB probe against documented CouchDB 3.x and IBM Cloudant replies, replayed byte for byte by a tiny
 * test-only HTTP server (test/fixtures/couchdb/replay-server.ts). Apache CouchDB cannot run on this machine
 * (not in Debian 12, no release tarball on a reachable registry), so this replays the documented replies of a
 * server that cannot run here — each fixture names its source in test/fixtures/couchdb/README.md. The probe's
 * behaviour against a real, running CouchDB-like server is tested in probe.test.ts (PouchDB Server).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { probeCtx } from '../../../test/helpers/probe-ctx.js';
import { fixtureReply, replayServer, type ReplayServer, type Reply } from '../../../test/fixtures/couchdb/replay-server.js';
import { ALL_DBS_QUERY, COUCHDB_COMMANDS, couchdbProbe } from './probe.js';

/** The Server header CouchDB 3.2.2 sends (CouchDB API reference, `/_node/{node-name}/_versions`). */
const COUCHDB_3_SERVER = { server: 'CouchDB/3.2.2-ea382cf (Erlang OTP/25)' };

let replay: ReplayServer | undefined;
afterEach(async () => {
  await replay?.close();
  replay = undefined;
});

async function probeReplay(routes: Record<string, Reply>): Promise<{ result: Awaited<ReturnType<typeof couchdbProbe.probe>>; seen: string[] }> {
  replay = await replayServer(routes);
  const result = await couchdbProbe.probe({ host: '127.0.0.1', port: replay.port }, probeCtx());
  for (const r of replay.requests) {
    assert.equal(r.method, 'GET', `the probe sent ${r.method} ${r.url}`);
    assert.equal(r.bodyBytes, 0);
    assert.equal(r.headers['user-agent'], probeCtx().identity);
  }
  for (const c of result.commands) assert.ok(couchdbProbe.allowedCommands.includes(c), c);
  assert.equal(replay.requests.length, result.commands.length, 'every command went on the wire once');
  return { result, seen: replay.requests.map((r) => r.url) };
}

describe('couchdb probe against replayed CouchDB 3 replies (documented, not a running CouchDB)', () => {
  it('admin party / admin_only_all_dbs = false: open, welcome facts, database info, cluster peers', async () => {
    const { result: r, seen } = await probeReplay({
      '/': fixtureReply('welcome-3.0.0.json', 200, COUCHDB_3_SERVER),
      '/_all_dbs': fixtureReply('all-dbs-replay.json'),
      '/animals': fixtureReply('db-info-animals.json'),
      '/plants': fixtureReply('db-info-plants.json'),
      '/receipts': fixtureReply('db-info-receipts.json'),
      '/_membership': fixtureReply('membership.json'),
      '/_up': fixtureReply('up.json'),
    });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'Apache CouchDB');
    assert.equal(r.version, '3.0.0');
    assert.equal(r.metadata.gitSha, '83bdcf693');
    assert.equal(r.metadata.uuid, '56f16e7c93ff4a2dc20eb6acc7000b71');
    assert.deepEqual(r.metadata.features, ['access-ready', 'partitioned', 'pluggable-storage-engines', 'reshard', 'scheduler']);
    assert.deepEqual(r.metadata.vendor, { name: 'The Apache Software Foundation' });
    assert.equal(r.metadata.server, COUCHDB_3_SERVER.server);
    assert.equal(r.metadata.databaseCount, 5);
    assert.deepEqual(r.metadata.databases, ['_replicator', '_users', 'animals', 'plants', 'receipts']);
    assert.deepEqual(r.metadata.databaseInfo, [
      { name: 'animals', docCount: 52224, docDelCount: 0, sizes: { file: 1178613587, external: 1713103872, active: 1162451555 }, cluster: { q: 8, n: 3, w: 2, r: 2 } },
      { name: 'plants', docCount: 11, docDelCount: 0, sizes: { file: 3872387, external: 2339, active: 67475 }, cluster: { q: 8, n: 3, w: 2, r: 2 } },
      { name: 'receipts', docCount: 6146, docDelCount: 64637, sizes: { file: 137433211, external: 66982448, active: 65031503 }, cluster: { q: 8, n: 3, w: 2, r: 2 } },
    ]);
    assert.equal(r.metadata.inspectedDocCount, 52224 + 11 + 6146);
    // Inventory: CouchDB 2+/3 sizes.file as bytes.
    assert.deepEqual(r.inventory, {
      records: 52224 + 11 + 6146,
      bytes: 1178613587 + 3872387 + 137433211,
      namespaces: [
        { path: ['_replicator'], kind: 'database' },
        { path: ['_users'], kind: 'database' },
        { path: ['animals'], kind: 'database', records: 52224, bytes: 1178613587 },
        { path: ['plants'], kind: 'database', records: 11, bytes: 3872387 },
        { path: ['receipts'], kind: 'database', records: 6146, bytes: 137433211 },
      ],
    });
    assert.equal(r.metadata.upStatus, 'ok');
    assert.deepEqual(
      r.peers,
      ['node1', 'node2', 'node3'].map((n) => ({ host: '127.0.0.1', role: 'member', source: `GET /_membership: cluster_nodes ${n}@127.0.0.1` })),
    );
    assert.equal(r.evidence, 'GET /_all_dbs answered 200 without credentials: 5 databases: _replicator, _users, animals, plants, receipts');
    assert.deepEqual(seen, ['/', `/_all_dbs${ALL_DBS_QUERY}`, '/animals', '/plants', '/receipts', '/_membership', '/_up']);
    assert.deepEqual(r.commands, [
      COUCHDB_COMMANDS.welcome,
      COUCHDB_COMMANDS.allDbs,
      COUCHDB_COMMANDS.dbInfo,
      COUCHDB_COMMANDS.dbInfo,
      COUCHDB_COMMANDS.dbInfo,
      COUCHDB_COMMANDS.membership,
      COUCHDB_COMMANDS.up,
    ]);
    assert.deepEqual(r.errors, []);
  });

  it('CouchDB 3 default (admin_only_all_dbs): GET / answers, /_all_dbs 401 -> auth_required with the body, no database requested', async () => {
    const { result: r, seen } = await probeReplay({
      '/': fixtureReply('welcome-3.0.0.json', 200, COUCHDB_3_SERVER),
      '/_all_dbs': fixtureReply('unauthorized-server-admin.json', 401, COUCHDB_3_SERVER),
      '/_up': fixtureReply('up.json'),
    });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.evidence, 'GET /_all_dbs: HTTP 401 {"error":"unauthorized","reason":"You are not a server admin."}');
    assert.equal(r.product, 'Apache CouchDB');
    assert.equal(r.version, '3.0.0');
    assert.equal(r.metadata.upStatus, 'ok');
    assert.equal(r.metadata.databases, undefined);
    assert.deepEqual(r.peers, []);
    assert.deepEqual(seen, ['/', `/_all_dbs${ALL_DBS_QUERY}`, '/_up']);
  });

  it('require_valid_user: GET / itself 401 "Authentication required." -> auth_required, version from the Server header', async () => {
    const refused = fixtureReply('unauthorized-authentication-required.json', 401, COUCHDB_3_SERVER);
    const { result: r, seen } = await probeReplay({ '/': refused, '/_up': refused });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'auth_required');
    assert.equal(r.evidence, 'GET /: HTTP 401 {"error":"unauthorized","reason":"Authentication required."}');
    assert.equal(r.product, 'Apache CouchDB');
    assert.equal(r.version, '3.2.2-ea382cf');
    assert.equal(r.metadata.requireValidUser, true);
    assert.equal(r.metadata.upStatus, undefined);
    assert.deepEqual(seen, ['/', '/_up']);
    assert.deepEqual(r.commands, [COUCHDB_COMMANDS.welcome, COUCHDB_COMMANDS.up]);
  });

  it('IBM Cloudant with a readable list and members-only databases: open, each refusal recorded with its body, DNS peers', async () => {
    const dbRefused = fixtureReply('unauthorized-db.json', 401);
    const { result: r, seen } = await probeReplay({
      '/': fixtureReply('welcome-cloudant-2.0.0.json'),
      '/_all_dbs': fixtureReply('all-dbs.json'),
      '/contacts': dbRefused,
      '/docs': dbRefused,
      '/invoices': dbRefused,
      '/locations': fixtureReply('db-info-receipts.json'),
      '/_membership': fixtureReply('membership-cloudant.json'),
      '/_up': fixtureReply('up.json'),
    });
    assert.equal(r.status, 'success', r.errors.join('; '));
    assert.equal(r.auth, 'open');
    assert.equal(r.product, 'IBM Cloudant');
    assert.equal(r.version, '2.0.0');
    assert.deepEqual(r.metadata.vendor, { name: 'IBM Cloudant', version: '5638', variant: 'paas' });
    assert.deepEqual(r.metadata.refusedDatabases, ['contacts', 'docs', 'invoices']);
    const info = r.metadata.databaseInfo as Record<string, unknown>[];
    assert.deepEqual(info[0], { name: 'contacts', status: 401, error: 'unauthorized', reason: 'You are not authorized to access this db.' });
    // The replay answers /locations with the documented receipts body; the probe names it by what it asked for.
    assert.equal(info[3]?.name, 'locations');
    assert.equal(info[3]?.docCount, 6146);
    assert.deepEqual(
      r.peers.map((p) => p.host),
      ['db1.testy004.cloudant.net', 'db2.testy004.cloudant.net', 'db3.testy004.cloudant.net'],
    );
    // _users is a system database: listed, never requested.
    assert.deepEqual(seen, ['/', `/_all_dbs${ALL_DBS_QUERY}`, '/contacts', '/docs', '/invoices', '/locations', '/_membership', '/_up']);
  });

  it('CouchDB 1.3.1 welcome, 2.2 _up, and a 404 _membership (1.x has none): open, no peers, no error', async () => {
    const { result: r } = await probeReplay({
      '/': fixtureReply('welcome-1.3.1.json'),
      '/_all_dbs': fixtureReply('all-dbs.json'),
      '/_up': fixtureReply('up-2.2.json'),
    });
    assert.equal(r.auth, 'open');
    assert.equal(r.version, '1.3.1');
    assert.equal(r.metadata.uuid, '85fb71bf700c17267fef77535820e371');
    // Every listed database answered the replay's 404: recorded, not fatal.
    assert.deepEqual(
      (r.metadata.databaseInfo as Record<string, unknown>[]).map((d) => d.status),
      [404, 404, 404, 404],
    );
    assert.deepEqual(r.peers, []);
    assert.equal(r.metadata.upStatus, 'ok');
    assert.deepEqual(r.errors, []);
  });
});
