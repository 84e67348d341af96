import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, TargetParseError } from '../core/errors.js';
import { parseIpv4, parseIpv6 } from './address.js';
import { isHostname, parseSpec, parseSpecs, splitSpecs, type ParsedSpec } from './parse.js';
import { formatRange } from './range-set.js';

const arg = (text: string, n = 1): { text: string; source: string } => ({ text, source: `argument ${n}` });

function rangeText(spec: ParsedSpec): string {
  assert.equal(spec.kind, 'range');
  return spec.kind === 'range' ? formatRange(spec.range) : '';
}

test('single addresses of both families', () => {
  assert.equal(rangeText(parseSpec(arg('10.0.0.1'))), '10.0.0.1');
  assert.equal(rangeText(parseSpec(arg('2001:DB8::1'))), '2001:db8::1');
  const v6 = parseSpec(arg('::1'));
  assert.equal(v6.kind === 'range' && v6.range.family, 6);
});

test('CIDR blocks, host bits cleared like nmap', () => {
  assert.equal(rangeText(parseSpec(arg('10.0.0.0/24'))), '10.0.0.0-10.0.0.255');
  assert.equal(rangeText(parseSpec(arg('10.0.0.77/24'))), '10.0.0.0-10.0.0.255');
  assert.equal(rangeText(parseSpec(arg('10.1.2.3/32'))), '10.1.2.3');
  assert.equal(rangeText(parseSpec(arg('0.0.0.0/0'))), '0.0.0.0-255.255.255.255');
  assert.equal(rangeText(parseSpec(arg('2001:db8::1234/112'))), '2001:db8::-2001:db8::ffff');
  assert.equal(rangeText(parseSpec(arg('2001:db8::1/128'))), '2001:db8::1');
  const all = parseSpec(arg('::/0'));
  assert.ok(all.kind === 'range' && all.range.end === (1n << 128n) - 1n);
});

test('dash ranges: full IPv4, full IPv6 and last-octet shorthand', () => {
  assert.equal(rangeText(parseSpec(arg('10.0.0.1-10.0.0.9'))), '10.0.0.1-10.0.0.9');
  assert.equal(rangeText(parseSpec(arg('10.0.0.250-10.0.1.5'))), '10.0.0.250-10.0.1.5');
  assert.equal(rangeText(parseSpec(arg('2001:db8::1-2001:db8::ff'))), '2001:db8::1-2001:db8::ff');
  assert.equal(rangeText(parseSpec(arg('10.0.0.1-20'))), '10.0.0.1-10.0.0.20');
  assert.equal(rangeText(parseSpec(arg('10.0.0.5-5'))), '10.0.0.5');
  assert.equal(rangeText(parseSpec(arg('10.0.0.0-255'))), '10.0.0.0-10.0.0.255');
});

test('hostnames are kept for resolution', () => {
  for (const name of ['localhost', 'db.example.org', 'db-1.example.org', 'x1.10-0-0-1.example', '_srv.example.com']) {
    const spec = parseSpec(arg(name));
    assert.deepEqual(spec.kind === 'hostname' && spec.hostname, name);
  }
  const dotted = parseSpec(arg('db.example.org.'));
  assert.equal(dotted.kind === 'hostname' && dotted.hostname, 'db.example.org');
  assert.equal(isHostname('a'.repeat(64)), false);
  assert.equal(isHostname('-bad.example'), false);
  assert.equal(isHostname('example.123'), false);
});

test('separators split one argument into several specs with the same source', () => {
  const specs = parseSpecs([arg('10.0.0.1, 10.0.0.2\t2001:db8::1,,host.example', 3)]);
  assert.deepEqual(
    specs.map((s) => [s.input.text, s.input.source, s.kind]),
    [
      ['10.0.0.1', 'argument 3', 'range'],
      ['10.0.0.2', 'argument 3', 'range'],
      ['2001:db8::1', 'argument 3', 'range'],
      ['host.example', 'argument 3', 'hostname'],
    ],
  );
  assert.deepEqual(splitSpecs(arg('  ')), []);
});

test('bad specs are rejected naming the input, its position and the reason', () => {
  const bad: [string, RegExp][] = [
    ['10.0.0.256', /octet 4 \(256\) is out of range/],
    ['10.0.0.0/33', /prefix length 33 is out of range for IPv4 \(0-32\)/],
    ['::1/129', /prefix length 129 is out of range for IPv6 \(0-128\)/],
    ['10.0.0.0/', /prefix length "" is not a number/],
    ['10.0.0.0/abc', /prefix length "abc" is not a number/],
    ['10.0.0.0/8/8', /address before "\/"/],
    ['host.example/24', /address before "\/"/],
    ['10.0.0.9-10.0.0.1', /range end is before range start/],
    ['10.0.0.9-3', /range end is before range start/],
    ['10.0.0.1-256', /out of range for the last octet/],
    ['10.0.0.1-10.0.0.300', /range end: octet 4 \(300\)/],
    ['10.0.0.1-2001:db8::1', /different address families/],
    ['2001:db8::9-2001:db8::1', /range end is before range start/],
    ['2001:db8::1-ff', /range end: not a valid IPv6 address/],
    ['10.0.0.1-2-3', /exactly one "-"/],
    ['fe80::1%eth0', /zone identifiers/],
    ['1.2.3', /four decimal octets/],
    ['999', /four decimal octets/],
    ['not a host!', /contains a separator/],
    ['bad!host', /not an IP address, CIDR block, address range or hostname/],
    ['', /empty target/],
  ];
  for (const [text, reason] of bad) {
    const err = (() => {
      try {
        parseSpec({ text, source: 'targets.txt:17' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof TargetParseError, `${JSON.stringify(text)} should be rejected`);
    assert.equal(err.code, ErrorCode.targetParse);
    assert.equal(err.input, text);
    assert.equal(err.source, 'targets.txt:17');
    assert.ok(err.message.startsWith(`Invalid target ${JSON.stringify(text)} at targets.txt:17: `), err.message);
    assert.match(err.message, reason);
  }
});

test('an empty argument and the first bad token of a list are reported with their source', () => {
  assert.throws(() => parseSpecs([arg('10.0.0.1'), arg(' , ', 2)]), (e: unknown) => e instanceof TargetParseError && e.source === 'argument 2' && /empty target/.test(e.message));
  assert.throws(
    () => parseSpecs([arg('10.0.0.1'), arg('10.0.0.2, 10.0.0.999', 2), arg('garbage!', 3)]),
    (e: unknown) => e instanceof TargetParseError && e.input === '10.0.0.999' && e.source === 'argument 2',
  );
});

test('parsed ranges agree with the address parsers', () => {
  const r = parseSpec(arg('192.168.7.0/23'));
  const lo = parseIpv4('192.168.6.0');
  const hi = parseIpv4('192.168.7.255');
  assert.ok(r.kind === 'range' && lo.ok && hi.ok && r.range.start === lo.value && r.range.end === hi.value);
  const v6 = parseSpec(arg('2001:db8:1:2::/64'));
  const v6lo = parseIpv6('2001:db8:1:2::');
  const v6hi = parseIpv6('2001:db8:1:2:ffff:ffff:ffff:ffff');
  assert.ok(v6.kind === 'range' && v6lo.ok && v6hi.ok && v6.range.start === v6lo.value && v6.range.end === v6hi.value);
});
