import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../core/errors.js';
import {
  authReplyDecoder,
  Capability,
  capabilityNames,
  decodeGreeting,
  decodePacket,
  decodeQueryReply,
  encodeHandshakeResponse41,
  encodePacket,
  encodeQuery,
  encodeQuit,
  formatErr,
  isEofPacket,
  lenencString,
  MAX_PACKET_PAYLOAD,
  mariaDbCapabilityNames,
  parseAuthReply,
  parseEofPacket,
  parseGreeting,
  parseOkPacket,
  PayloadReader,
  PROBE_CLIENT_CAPABILITIES,
  type HandshakeV10,
  type ResultSet,
} from './codec.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Greeting captured from the test server (Debian 12 MariaDB 10.11.19) with a raw socket, connection id 6. */
const MARIADB_10_11_GREETING = hex(
  '640000000a352e352e352d31302e31312e31392d4d6172696144422d302b6465623132753100060000002b57572e7e525d5f00fef708' +
    '0200ff81150000000000001d0000004372354d632e584f652d4e23006d7973716c5f6e61746976655f70617373776f726400',
);

/** MySQL 8.0.32 HandshakeV10 payload as published byte by byte in "Exploring the MySQL protocol" (2024). */
const MYSQL_8_0_32_PAYLOAD = hex(`
  0a 38 2e 30 2e 33 32 00 08 00 00 00 1c 46 19 46 59 76 40 4b 00 ff ff ff 02 00 ff df 15
  00 00 00 00 00 00 00 00 00 00 3f 71 34 71 53 45 5e 5d 22 7a 32 3d 00
  63 61 63 68 69 6e 67 5f 73 68 61 32 5f 70 61 73 73 77 6f 72 64 00`);

/** MySQL 5.5.46 (Ubuntu 14.04) greeting from a published tcpdump capture (header included). */
const MYSQL_5_5_46_GREETING = hex(`
  5b 00 00 00 0a 35 2e 35 2e 34 36 2d 30 75 62 75 6e 74 75 30 2e 31 34 2e 30 34 2e 32
  00 5f 00 00 00 6c 62 2a 46 63 40 54 65 00 ff f7 08 02 00 0f 80 15 00 00 00 00 00 00 00 00 00 00
  7e 6d 26 70 28 70 7e 4b 37 73 5f 61 00 6d 79 73 71 6c 5f 6e 61 74 69 76 65 5f 70 61 73 73 77 6f 72 64 00`);

function frame(seq: number, payload: Buffer): Buffer {
  return encodePacket(seq, payload);
}

function errPayload(code: number, message: string, sqlState?: string): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(code, 1);
  return Buffer.concat([head, sqlState ? Buffer.from('#' + sqlState, 'latin1') : Buffer.alloc(0), Buffer.from(message)]);
}

function columnDef(name: string, schema = '', table = ''): Buffer {
  const fixed = Buffer.alloc(13);
  fixed[0] = 0x0c;
  fixed.writeUInt16LE(45, 1);
  fixed.writeUInt32LE(256, 3);
  fixed[7] = 0xfd;
  return Buffer.concat([lenencString('def'), lenencString(schema), lenencString(table), lenencString(table), lenencString(name), lenencString(name), fixed, Buffer.alloc(2)]);
}

const EOF = hex('fe 00 00 02 00');

/** A text result set as a server sends it to a client without DEPRECATE_EOF (sequence ids from 1). */
function resultSet(columns: string[], rows: (string | null)[][]): Buffer {
  const payloads: Buffer[] = [Buffer.from([columns.length]), ...columns.map((c) => columnDef(c)), EOF];
  for (const row of rows) payloads.push(Buffer.concat(row.map((v) => (v === null ? Buffer.from([0xfb]) : lenencString(v)))));
  payloads.push(EOF);
  return Buffer.concat(payloads.map((p, i) => frame(i + 1, p)));
}

/** Every decoder must either return (a value or `undefined`) or throw ProtocolError; anything else is a bug. */
function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

describe('mysql codec: packets', () => {
  it('decodes one packet and reports what it consumed', () => {
    const buf = Buffer.concat([frame(3, Buffer.from('abc')), Buffer.from([9, 9])]);
    assert.deepEqual(decodePacket(buf), { value: { sequenceId: 3, payload: Buffer.from('abc') }, consumed: 7 });
  });

  it('needs more bytes for a truncated header or payload', () => {
    const buf = frame(0, Buffer.from('hello'));
    for (let n = 0; n < buf.length; n++) assert.equal(decodePacket(buf.subarray(0, n)), undefined, `prefix ${n}`);
  });

  it('joins continuation packets and frames exact multiples of 16 MiB-1 with an empty trailer', () => {
    const payload = Buffer.alloc(MAX_PACKET_PAYLOAD + 10, 0x61);
    const framed = encodePacket(7, payload);
    assert.equal(framed.length, payload.length + 8);
    const r = decodePacket(framed, MAX_PACKET_PAYLOAD * 2);
    assert.ok(r);
    assert.equal(r.value.sequenceId, 7);
    assert.equal(r.consumed, framed.length);
    assert.ok(r.value.payload.equals(payload));

    const exact = encodePacket(0, Buffer.alloc(MAX_PACKET_PAYLOAD));
    assert.equal(exact.length, MAX_PACKET_PAYLOAD + 8);
    assert.equal(exact.readUIntLE(MAX_PACKET_PAYLOAD + 4, 3), 0);
    assert.equal(decodePacket(exact, MAX_PACKET_PAYLOAD)?.value.payload.length, MAX_PACKET_PAYLOAD);
  });

  it('bounds the payload before the bytes arrive and checks continuation sequence ids', () => {
    assert.throws(() => decodePacket(hex('ffffff00'), 1024), ProtocolError);
    assert.throws(() => decodePacket(hex('00010000'), 100), /exceeds the limit of 100/);
    const first = Buffer.concat([hex('ffffff05'), Buffer.alloc(MAX_PACKET_PAYLOAD)]);
    assert.throws(() => decodePacket(Buffer.concat([first, hex('01000009'), Buffer.from('x')]), MAX_PACKET_PAYLOAD * 2), /sequence id 9, expected 6/);
  });
});

describe('mysql codec: length-encoded integers and strings', () => {
  it('reads each width', () => {
    const r = new PayloadReader(hex('fa fc 2c 01 fd 01 02 03 fe 08 07 06 05 04 03 02 00 fb'), 'test');
    assert.equal(r.lenencInt('a'), 250);
    assert.equal(r.lenencInt('b'), 300);
    assert.equal(r.lenencInt('c'), 0x030201);
    assert.equal(r.lenencInt('d'), 0x0002030405060708);
    assert.equal(r.lenencInt('e', true), null);
    assert.equal(r.remaining, 0);
  });

  it('rejects 0xff, NULL where not allowed, values past the buffer and values beyond 2^53', () => {
    assert.throws(() => new PayloadReader(hex('ff'), 't').lenencInt('x'), ProtocolError);
    assert.throws(() => new PayloadReader(hex('fb'), 't').lenencInt('x'), ProtocolError);
    assert.throws(() => new PayloadReader(hex('fc 01'), 't').lenencInt('x'), /truncated/);
    assert.throws(() => new PayloadReader(hex('fd 01 02'), 't').lenencInt('x'), /truncated/);
    assert.throws(() => new PayloadReader(hex('fe 01 02 03 04 05 06 07'), 't').lenencInt('x'), /truncated/);
    assert.throws(() => new PayloadReader(hex('fe ff ff ff ff ff ff ff ff'), 't').lenencInt('x'), /out of range/);
    // A string claiming 2^24-1 bytes in a 3-byte payload.
    assert.throws(() => new PayloadReader(hex('fd ff ff ff 61'), 't').lenencString('s'), /truncated/);
  });

  it('round-trips strings through lenencString', () => {
    for (const len of [0, 1, 250, 251, 300, 70_000]) {
      const s = 'x'.repeat(len);
      assert.equal(new PayloadReader(lenencString(s), 't').lenencString('s'), s);
    }
  });
});

describe('mysql codec: greetings', () => {
  it('decodes the MariaDB 10.11 greeting captured from the test server', () => {
    const r = decodeGreeting(MARIADB_10_11_GREETING);
    assert.ok(r);
    assert.equal(r.consumed, MARIADB_10_11_GREETING.length);
    const g = r.value as HandshakeV10;
    assert.equal(g.kind, 'handshake');
    assert.equal(g.protocolVersion, 10);
    assert.equal(g.rawServerVersion, '5.5.5-10.11.19-MariaDB-0+deb12u1');
    assert.equal(g.product, 'MariaDB');
    assert.equal(g.version, '10.11.19-MariaDB-0+deb12u1');
    assert.equal(g.connectionId, 6);
    assert.equal(g.authPluginData.length, 20);
    assert.equal(g.authPluginData.toString('latin1'), '+WW.~R]_Cr5Mc.XOe-N#');
    assert.equal(g.capabilities, 0x81fff7fe);
    assert.equal(g.characterSet, 8);
    assert.equal(g.statusFlags, 2);
    assert.equal(g.authPluginName, 'mysql_native_password');
    assert.equal(g.mariaDbCapabilities, 0x1d);
    assert.deepEqual(mariaDbCapabilityNames(g.mariaDbCapabilities), ['PROGRESS', 'STMT_BULK_OPERATIONS', 'EXTENDED_METADATA', 'CACHE_METADATA']);
    const names = capabilityNames(g.capabilities);
    for (const n of ['PROTOCOL_41', 'SECURE_CONNECTION', 'PLUGIN_AUTH', 'CONNECT_ATTRS', 'DEPRECATE_EOF']) assert.ok(names.includes(n), n);
    assert.ok(!names.includes('SSL'));
    assert.ok(!names.includes('LONG_PASSWORD'), 'MariaDB clears CLIENT_MYSQL');
  });

  it('decodes the published MySQL 8.0.32 greeting (caching_sha2_password, SSL)', () => {
    const g = parseGreeting(MYSQL_8_0_32_PAYLOAD) as HandshakeV10;
    assert.equal(g.product, 'MySQL');
    assert.equal(g.version, '8.0.32');
    assert.equal(g.connectionId, 8);
    assert.equal(g.characterSet, 255);
    assert.equal(g.capabilities, 0xdfffffff);
    assert.equal(g.authPluginName, 'caching_sha2_password');
    assert.equal(g.authPluginData.length, 20);
    assert.equal(g.mariaDbCapabilities, undefined);
    const names = capabilityNames(g.capabilities);
    assert.ok(names.includes('SSL') && names.includes('PLUGIN_AUTH') && names.includes('LONG_PASSWORD'));
    // Same bytes through the session decoder once framed.
    assert.deepEqual(decodeGreeting(frame(0, MYSQL_8_0_32_PAYLOAD))?.value, g);
  });

  it('decodes the published MySQL 5.5.46 greeting', () => {
    const g = decodeGreeting(MYSQL_5_5_46_GREETING)?.value as HandshakeV10;
    assert.equal(g.product, 'MySQL');
    assert.equal(g.version, '5.5.46-0ubuntu0.14.04.2');
    assert.equal(g.connectionId, 0x5f);
    assert.equal(g.authPluginName, 'mysql_native_password');
    assert.equal(g.authPluginData.toString('latin1'), 'lb*Fc@Te~m&p(p~K7s_a');
    assert.equal(g.capabilities, 0x800ff7ff);
  });

  it('decodes a pre-4.1 greeting that ends after the capability flags', () => {
    const payload = Buffer.concat([hex('0a'), Buffer.from('4.0.30\0'), hex('01000000'), Buffer.from('abcdefgh'), hex('00 2c 20')]);
    const g = parseGreeting(payload) as HandshakeV10;
    assert.equal(g.version, '4.0.30');
    assert.equal(g.capabilities, 0x202c);
    assert.equal(g.authPluginName, undefined);
    assert.equal(g.characterSet, 0);
  });

  it('recognises protocol v9', () => {
    const payload = Buffer.concat([hex('09'), Buffer.from('3.20.32a-log\0'), hex('2a000000'), Buffer.from('scramble\0')]);
    const g = parseGreeting(payload);
    assert.equal(g.kind, 'handshake');
    assert.equal(g.protocolVersion, 9);
    assert.equal(g.product, 'MySQL');
    assert.equal(g.version, '3.20.32a-log');
    assert.equal(g.connectionId, 42);
  });

  it('decodes ERR greetings: host not allowed (1130), too many connections (1040)', () => {
    const notAllowed = decodeGreeting(frame(0, errPayload(1130, "Host '192.0.2.7' is not allowed to connect to this MySQL server")))?.value;
    assert.deepEqual(notAllowed, { kind: 'err', code: 1130, message: "Host '192.0.2.7' is not allowed to connect to this MySQL server" });
    const tooMany = decodeGreeting(frame(0, errPayload(1040, 'Too many connections', '08004')))?.value;
    assert.deepEqual(tooMany, { kind: 'err', code: 1040, sqlState: '08004', message: 'Too many connections' });
    assert.equal(formatErr(tooMany as never), 'ERR 1040 (08004): Too many connections');
  });

  it('needs more bytes for every strict prefix of a greeting', () => {
    for (let n = 0; n < MARIADB_10_11_GREETING.length; n++) {
      assert.equal(decodeGreeting(MARIADB_10_11_GREETING.subarray(0, n)), undefined, `prefix ${n}`);
    }
  });

  it('rejects other protocols after the first five bytes', () => {
    assert.throws(() => decodeGreeting(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')), /sequence id/);
    assert.throws(() => decodeGreeting(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')), ProtocolError);
    assert.throws(() => decodeGreeting(hex('2000000016')), /protocol version byte 0x16/);
    assert.throws(() => decodeGreeting(hex('00000000')), /empty packet/);
    assert.throws(() => decodeGreeting(hex('ffffff000a')), /never spans packets/);
    // A flood of one byte is rejected before its "length" is read in.
    assert.throws(() => decodeGreeting(Buffer.alloc(5, 0x41)), ProtocolError);
  });

  it('rejects greetings truncated inside the packet', () => {
    const payload = MARIADB_10_11_GREETING.subarray(4);
    for (const cut of [1, 5, 20, 36, 40, 45, 60]) {
      assert.throws(() => parseGreeting(payload.subarray(0, cut)), ProtocolError, `cut at ${cut}`);
    }
    assert.throws(() => parseGreeting(Buffer.concat([hex('0a'), Buffer.alloc(300, 0x41)])), /no NUL terminator/);
  });
});

describe('mysql codec: login', () => {
  const g = parseGreeting(MARIADB_10_11_GREETING.subarray(4)) as HandshakeV10;

  function decodeResponse(buf: Buffer): { caps: number; charset: number; user: string; auth: Buffer; plugin?: string; attrs: Record<string, string> } {
    const p = decodePacket(buf);
    assert.ok(p);
    assert.equal(p.value.sequenceId, 1);
    const r = new PayloadReader(p.value.payload, 'HandshakeResponse41');
    const caps = r.u32('caps');
    r.u32('max packet');
    const charset = r.u8('charset');
    assert.ok(r.bytes(23, 'filler').equals(Buffer.alloc(23)));
    const user = r.nulString('user');
    const auth = r.bytes(r.u8('auth length'), 'auth');
    const plugin = caps & Capability.PLUGIN_AUTH ? r.nulString('plugin') : undefined;
    const attrs: Record<string, string> = {};
    if (caps & Capability.CONNECT_ATTRS) {
      const len = r.lenencInt('attrs length') as number;
      const ar = new PayloadReader(r.bytes(len, 'attrs'), 'attrs');
      while (ar.remaining > 0) attrs[ar.lenencString('k') as string] = ar.lenencString('v') as string;
    }
    assert.equal(r.remaining, 0);
    return { caps, charset, user, auth, ...(plugin !== undefined ? { plugin } : {}), attrs };
  }

  it('encodes HandshakeResponse41 for root with an empty mysql_native_password response', () => {
    const bytes = encodeHandshakeResponse41({
      clientCapabilities: PROBE_CLIENT_CAPABILITIES,
      serverCapabilities: g.capabilities,
      username: 'root',
      authResponse: new Uint8Array(0),
      authPluginName: 'mysql_native_password',
      characterSet: 45,
      maxPacketSize: 16 * 1024 * 1024,
      connectAttributes: { _client_name: 'lockdown', program_name: 'lockdown-test' },
      sequenceId: 1,
    });
    const d = decodeResponse(bytes);
    for (const flag of ['PROTOCOL_41', 'SECURE_CONNECTION', 'PLUGIN_AUTH', 'CONNECT_ATTRS', 'LONG_PASSWORD']) {
      assert.ok(capabilityNames(d.caps).includes(flag), flag);
    }
    // Never offered: a server could ask for a local file, chain statements, or expect TLS next.
    for (const flag of ['LOCAL_FILES', 'MULTI_STATEMENTS', 'SSL', 'CONNECT_WITH_DB', 'DEPRECATE_EOF']) {
      assert.ok(!capabilityNames(d.caps).includes(flag), flag);
    }
    assert.equal(d.charset, 45);
    assert.equal(d.user, 'root');
    assert.equal(d.auth.length, 0);
    assert.equal(d.plugin, 'mysql_native_password');
    assert.deepEqual(d.attrs, { _client_name: 'lockdown', program_name: 'lockdown-test' });
  });

  it('drops plugin name and attributes the server does not support, and refuses pre-4.1 servers', () => {
    const base = {
      clientCapabilities: PROBE_CLIENT_CAPABILITIES,
      username: 'root',
      authResponse: new Uint8Array(0),
      authPluginName: 'mysql_native_password',
      characterSet: 45,
      maxPacketSize: 1 << 24,
      connectAttributes: { program_name: 'x' },
      sequenceId: 1,
    };
    const old = decodeResponse(encodeHandshakeResponse41({ ...base, serverCapabilities: 0xf7ff }));
    assert.equal(old.plugin, undefined);
    assert.deepEqual(old.attrs, {});
    assert.throws(() => encodeHandshakeResponse41({ ...base, serverCapabilities: 0x202c }), ProtocolError);
  });

  it('parses the replies to a login attempt', () => {
    assert.deepEqual(parseAuthReply(hex('00 00 00 02 00 00 00')), { kind: 'ok', affectedRows: 0, lastInsertId: 0, statusFlags: 2, warnings: 0, info: '' });
    const denied = parseAuthReply(errPayload(1045, "Access denied for user 'root'@'127.0.0.1' (using password: NO)", '28000'));
    assert.equal(formatErr(denied as never), "ERR 1045 (28000): Access denied for user 'root'@'127.0.0.1' (using password: NO)");
    assert.deepEqual(parseAuthReply(Buffer.concat([hex('fe'), Buffer.from('client_ed25519\0'), Buffer.from('0123456789abcdef0123456789abcdef')])), {
      kind: 'auth-switch',
      pluginName: 'client_ed25519',
      pluginData: Buffer.from('0123456789abcdef0123456789abcdef'),
    });
    assert.deepEqual(parseAuthReply(hex('fe')), { kind: 'auth-switch', pluginName: 'mysql_old_password', pluginData: Buffer.alloc(0) });
    assert.deepEqual(parseAuthReply(hex('01 04')), { kind: 'auth-more-data', data: hex('04') });
    assert.throws(() => parseAuthReply(Buffer.alloc(0)), ProtocolError);
    assert.throws(() => parseAuthReply(hex('42')), ProtocolError);
    assert.throws(() => parseAuthReply(hex('00 fc 01')), ProtocolError);
  });

  it('checks the sequence id of login replies and bounds their size', () => {
    const dec = authReplyDecoder(2);
    assert.equal(dec(hex('07 00 00')), undefined);
    assert.equal(dec(hex('07 00 00 02 00 00')), undefined);
    assert.equal(dec(frame(2, hex('00 00 00 02 00 00 00')))?.value.kind, 'ok');
    assert.throws(() => dec(frame(5, hex('00 00 00 02 00 00 00'))), /sequence id 5, expected 2/);
    assert.throws(() => dec(hex('ffff7f02')), /exceeds the limit/);
  });

  it('encodes COM_QUERY and COM_QUIT', () => {
    assert.deepEqual(encodeQuery('SHOW DATABASES'), Buffer.concat([hex('0f 00 00 00 03'), Buffer.from('SHOW DATABASES')]));
    assert.deepEqual(encodeQuit(), hex('01 00 00 00 01'));
  });
});

describe('mysql codec: OK, EOF and text result sets', () => {
  it('parses OK and EOF packets', () => {
    assert.deepEqual(parseOkPacket(hex('00 fc e8 03 05 22 00 01 00 69 6e 66 6f')), {
      kind: 'ok',
      affectedRows: 1000,
      lastInsertId: 5,
      statusFlags: 0x22,
      warnings: 1,
      info: 'info',
    });
    assert.ok(isEofPacket(EOF));
    assert.ok(!isEofPacket(hex('fe 01 02 03 04 05 06 07 08')));
    assert.deepEqual(parseEofPacket(hex('fe 00 00 22 00')), { kind: 'eof', warnings: 0, statusFlags: 0x22 });
  });

  it('decodes the published MySQL 8.0.32 result set', () => {
    const col = (name: string, orgName: string, len: string, flags: string): Buffer =>
      Buffer.concat([lenencString('def'), lenencString('mysql'), lenencString('user'), lenencString('user'), lenencString(name), lenencString(orgName), hex(`0c e0 00 ${len} fe ${flags} 00 00 00`)]);
    const payloads = [
      hex('02'),
      col('user', 'User', '80 00 00 00', '83 40'),
      col('plugin', 'plugin', '00 01 00 00', '81 00'),
      hex('fe 00 00 22 00'),
      Buffer.concat([lenencString('klemen'), lenencString('caching_sha2_password')]),
      hex('fe 00 00 22 00'),
    ];
    const bytes = Buffer.concat(payloads.map((p, i) => frame(i + 1, p)));
    const r = decodeQueryReply(bytes);
    assert.ok(r);
    assert.equal(r.consumed, bytes.length);
    const rs = r.value as ResultSet;
    assert.equal(rs.kind, 'resultset');
    assert.deepEqual(rs.columns.map((c) => [c.schema, c.table, c.name, c.characterSet, c.columnLength, c.type, c.flags]), [
      ['mysql', 'user', 'user', 224, 128, 0xfe, 0x4083],
      ['mysql', 'user', 'plugin', 224, 256, 0xfe, 0x81],
    ]);
    assert.deepEqual(rs.rows, [['klemen', 'caching_sha2_password']]);
    for (let n = 0; n < bytes.length; n++) assert.equal(decodeQueryReply(bytes.subarray(0, n)), undefined, `prefix ${n}`);
  });

  it('decodes NULLs, OK and ERR replies, and an ERR in the middle of the rows', () => {
    const rs = decodeQueryReply(resultSet(['a', 'b'], [['1', null], [null, '']]))?.value as ResultSet;
    assert.deepEqual(rs.rows, [['1', null], [null, '']]);
    assert.equal(decodeQueryReply(frame(1, hex('00 00 00 02 00 00 00')))?.value.kind, 'ok');
    assert.deepEqual(decodeQueryReply(frame(1, errPayload(1142, 'SELECT command denied', '42000')))?.value, {
      kind: 'err',
      code: 1142,
      sqlState: '42000',
      message: 'SELECT command denied',
    });
    const full = resultSet(['a'], [['1'], ['2']]);
    const cut = full.subarray(0, full.length - 9); // drop the final EOF
    const withErr = Buffer.concat([cut, frame(6, errPayload(1317, 'Query execution was interrupted', '70100'))]);
    assert.equal((decodeQueryReply(withErr)?.value as { code: number }).code, 1317);
  });

  it('rejects hostile result sets', () => {
    // LOCAL INFILE request: never answered.
    assert.throws(() => decodeQueryReply(frame(1, Buffer.concat([hex('fb'), Buffer.from('/etc/passwd')]))), /local file/);
    // Absurd and zero column counts.
    assert.throws(() => decodeQueryReply(frame(1, hex('fc ff ff'))), /65535 columns/);
    assert.throws(() => decodeQueryReply(frame(1, hex('fe ff ff ff ff ff ff 1f 00'))), ProtocolError);
    assert.throws(() => decodeQueryReply(frame(1, hex('fd'))), /truncated/);
    // Too many rows for the limits.
    const many = resultSet(['a'], Array.from({ length: 11 }, (_, i) => [String(i)]));
    assert.throws(() => decodeQueryReply(many, { maxRows: 10, maxColumns: 10, maxPayload: 1024 }), /more than 10 rows/);
    // A row with more bytes than its columns, a row whose value runs past the packet.
    const payloads = [hex('01'), columnDef('a'), EOF, Buffer.concat([lenencString('x'), lenencString('y')]), EOF];
    assert.throws(() => decodeQueryReply(Buffer.concat(payloads.map((p, i) => frame(i + 1, p)))), /after its 1 columns/);
    const longer = [hex('01'), columnDef('a'), EOF, hex('fc 10 27 61'), EOF];
    assert.throws(() => decodeQueryReply(Buffer.concat(longer.map((p, i) => frame(i + 1, p)))), /truncated/);
    // Wrong sequence ids, wrong catalog, missing EOF after columns.
    assert.throws(() => decodeQueryReply(frame(4, hex('01'))), /sequence id 4, expected 1/);
    const badCatalog = Buffer.concat([frame(1, hex('01')), frame(2, Buffer.concat([lenencString('xyz'), columnDef('a').subarray(4)]))]);
    assert.throws(() => decodeQueryReply(badCatalog), /catalog/);
    const noEof = Buffer.concat([frame(1, hex('01')), frame(2, columnDef('a')), frame(3, lenencString('row'))]);
    assert.throws(() => decodeQueryReply(noEof), /EOF/);
    // A packet bigger than the payload bound is refused before it arrives.
    assert.throws(() => decodeQueryReply(hex('ffff0f01'), { maxRows: 10, maxColumns: 10, maxPayload: 1024 }), /exceeds the limit/);
  });
});

describe('mysql codec: fuzz', () => {
  // Deterministic PRNG (mulberry32) so a failure can be reproduced from the seed.
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('decoders only return or throw ProtocolError on 2,000 random, truncated and mutated buffers', () => {
    const rand = rng(0x5eed);
    const seeds = [
      MARIADB_10_11_GREETING,
      MYSQL_5_5_46_GREETING,
      frame(0, MYSQL_8_0_32_PAYLOAD),
      frame(0, errPayload(1130, "Host 'x' is not allowed to connect")),
      resultSet(['name', 'n'], [['a', '1'], ['b', null]]),
      frame(2, hex('fe 6d 79 73 71 6c 5f 6e 61 74 69 76 65 00 41 42')),
    ];
    const limits = { maxRows: 100, maxColumns: 64, maxPayload: 64 * 1024 };
    for (let i = 0; i < 2000; i++) {
      let buf: Buffer;
      const mode = i % 4;
      const base = seeds[Math.floor(rand() * seeds.length)]!;
      if (mode === 0) {
        buf = Buffer.alloc(Math.floor(rand() * 200));
        for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
      } else if (mode === 1) {
        buf = base.subarray(0, Math.floor(rand() * (base.length + 1)));
      } else {
        buf = Buffer.from(base);
        const flips = 1 + Math.floor(rand() * 6);
        for (let j = 0; j < flips; j++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256);
        if (mode === 3) buf = buf.subarray(0, Math.floor(rand() * (buf.length + 1)));
      }
      onlyProtocolErrors(() => decodeGreeting(buf));
      onlyProtocolErrors(() => decodePacket(buf, limits.maxPayload));
      onlyProtocolErrors(() => decodeQueryReply(buf, limits));
      onlyProtocolErrors(() => authReplyDecoder(2)(buf));
      onlyProtocolErrors(() => parseGreeting(buf));
      onlyProtocolErrors(() => parseAuthReply(buf));
      onlyProtocolErrors(() => parseOkPacket(buf));
    }
  });
});
