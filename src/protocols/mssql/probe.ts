/**
 * Microsoft SQL Server probe: one TCP connection, one TDS PRELOGIN message, one PRELOGIN response read,
 * then the connection is closed. No LOGIN7, no TLS handshake, no credentials — ever (`MSSQL_COMMANDS`).
 *
 * Why the verdict is always `inconclusive`: SQL Server has no anonymous mode. Every session needs a LOGIN7
 * with SQL or Windows credentials, so the only way to learn whether the data is readable is to log in, and
 * lockdown never guesses passwords. PRELOGIN proves that SQL Server (or another TDS server) listens, names
 * its version and says how it treats encryption, which is what a notice needs; it cannot say more.
 *
 * What we send: ENCRYPTION = ENCRYPT_OFF ("encryption available but off"), because its answer tells the
 * most ([MS-TDS] 2.2.6.5's table): a server that forces encryption answers ENCRYPT_REQ, a normal server
 * ENCRYPT_OFF (only the login packet would be encrypted), a server without a certificate ENCRYPT_NOT_SUP.
 * (Sending ENCRYPT_NOT_SUP would hide the difference between the last two.) VERSION is lockdown's own
 * version, INSTOPT the default instance (a lone NUL), THREADID 0, MARS off.
 *
 * Result fields and their sources:
 * - `auth`: always `inconclusive` once a PRELOGIN response was parsed (see above).
 * - `product`: "Microsoft SQL Server" — the only product whose PRELOGIN response this module reads; other
 *   TDS servers (Azure SQL, Babelfish) answer the same way and are not told apart.
 * - `version`: the response's VERSION option, `major.minor.build` (+ `.subBuild` when non-zero).
 * - `evidence`: a one-line summary of the PRELOGIN response (version, encryption, MARS).
 * - `metadata.release`: the release the version belongs to (`sqlServerRelease`, e.g. 15.x = SQL Server 2019).
 * - `metadata.encryption`: the response's ENCRYPTION option by its [MS-TDS] name (`ENCRYPT_OFF`, `ENCRYPT_REQ`,
 *   `ENCRYPT_NOT_SUP`, `ENCRYPT_ON`), and `metadata.encryptionNote` what it means for a login.
 * - `metadata.instanceValid`: INSTOPT (B_INSTVALIDITY) 0x00 = the default instance we asked for is served here.
 * - `metadata.mars`, `metadata.threadId`, `metadata.fedAuthRequired`: the options of those names, when sent.
 * - `metadata.loginAttempted`: always false.
 * - `peers`: none (PRELOGIN names no other server).
 */
import { AuthVerdict, type Probe, type ProbeResult } from '../../core/types.js';
import { VERSION } from '../../core/version.js';
import { runProbe, type ProbeRun } from '../../net/probe-run.js';
import {
  ENCRYPTION,
  TDS_PACKET_TYPE,
  encodePreLogin,
  encryptionName,
  parsePreLogin,
  sqlServerRelease,
  tdsMessageDecoder,
  type ClientPreLogin,
  type PreLoginFields,
} from './codec.js';

/** The allow-list: the one message this module may put on the wire. */
export const MSSQL_COMMANDS = {
  preLogin: 'PRELOGIN',
} as const;

export const mssqlProbe: Probe = {
  name: 'mssql',
  defaultPorts: [1433],
  transport: 'tcp',
  description: 'Microsoft SQL Server (TDS): PRELOGIN only — version and encryption, never a login',
  allowedCommands: Object.values(MSSQL_COMMANDS),
  probe: (target, ctx): Promise<ProbeResult> => runProbe(mssqlProbe, target, ctx, probeMssql),
};

/** The PRELOGIN this module sends (exported so tests can compare what went on the wire). */
export function clientPreLogin(): ClientPreLogin {
  const [major = 0, minor = 0, patch = 0] = VERSION.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
  return {
    version: { major: major & 0xff, minor: minor & 0xff, build: patch & 0xffff, subBuild: 0 },
    encryption: ENCRYPTION.off,
    instance: '',
    threadId: 0,
    mars: false,
  };
}

async function probeMssql(run: ProbeRun): Promise<void> {
  const session = await run.connect();
  session.send(MSSQL_COMMANDS.preLogin, encodePreLogin(clientPreLogin()));
  const message = await session.read(tdsMessageDecoder(TDS_PACKET_TYPE.tabularResult));
  const prelogin = parsePreLogin(message.payload);
  session.close();
  record(run, prelogin);
}

const ENCRYPTION_NOTES: Record<string, string> = {
  ENCRYPT_OFF: 'TLS is available but not forced: only the login packet would be encrypted, the session after it travels in clear',
  ENCRYPT_REQ: 'the server forces TLS for the whole session',
  ENCRYPT_NOT_SUP: 'the server offers no TLS at all: a login, its (only obfuscated) password included, would cross the network in clear',
  ENCRYPT_ON: 'the server answered ENCRYPT_ON to a client that asked for ENCRYPT_OFF',
};

function record(run: ProbeRun, p: PreLoginFields): void {
  const r = run.result;
  r.auth = AuthVerdict.inconclusive;
  r.product = 'Microsoft SQL Server';
  const v = p.version!;
  r.version = `${v.major}.${v.minor}.${v.build}${v.subBuild !== 0 ? `.${v.subBuild}` : ''}`;
  const release = sqlServerRelease(v.major, v.minor);
  const meta: Record<string, unknown> = { loginAttempted: false };
  if (release !== undefined) meta.release = release;
  const encryption = p.encryption === undefined ? undefined : encryptionName(p.encryption);
  if (encryption !== undefined) {
    meta.encryption = encryption;
    const note = ENCRYPTION_NOTES[encryption];
    if (note !== undefined) meta.encryptionNote = note;
  }
  if (p.instOpt !== undefined && p.instOpt.length > 0) meta.instanceValid = p.instOpt[0] === 0;
  if (p.mars !== undefined) meta.mars = p.mars;
  if (p.threadId !== undefined) meta.threadId = p.threadId;
  if (p.fedAuthRequired !== undefined) meta.fedAuthRequired = p.fedAuthRequired !== 0;
  r.metadata = { ...r.metadata, ...meta };
  const parts = [`PRELOGIN answered: version ${r.version}${release ? ` (${release})` : ''}`];
  parts.push(`encryption ${encryption ?? 'not stated'}`);
  if (p.mars !== undefined) parts.push(`MARS ${p.mars ? 'on' : 'off'}`);
  run.setEvidence(`${parts.join(', ')}; no login attempted (SQL Server always requires one)`);
}
