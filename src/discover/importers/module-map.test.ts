import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authErrorIn, judgeBlock } from './claims.js';
import { detectFormat } from './detect.js';
import { mapModule } from './module-map.js';

describe('mapModule', () => {
  it('prefers the product block, then the product, then the service name, then the port', () => {
    assert.deepEqual(mapModule({ block: 'elastic', product: 'nginx', port: 80 }), { module: 'elasticsearch', from: 'block' });
    assert.deepEqual(mapModule({ product: 'Redis key-value store', service: 'http', port: 80 }), { module: 'redis', from: 'product' });
    assert.deepEqual(mapModule({ service: 'postgresql', port: 15432 }), { module: 'postgres', from: 'service' });
    assert.deepEqual(mapModule({ port: 6379 }), { module: 'redis', from: 'port' }, 'registry default port');
    assert.deepEqual(mapModule({ port: 27017 }), { module: 'mongodb', from: 'port' }, 'a module being added');
    assert.deepEqual(mapModule({ service: 'http', port: 9200 }), { module: 'elasticsearch', from: 'port' }, 'HTTP on an HTTP module port');
  });

  it('does not let the port override what the source identified', () => {
    assert.equal(mapModule({ service: 'ssh', port: 6379 }), null);
    assert.equal(mapModule({ service: 'http', port: 6379 }), null, 'Redis does not speak HTTP');
    assert.equal(mapModule({ product: 'nginx', port: 9200 }), null);
    assert.equal(mapModule({ service: 'http', port: 8080 }), null);
  });
});

describe('claims', () => {
  it('finds the servers’ own auth errors', () => {
    assert.equal(authErrorIn(['-NOAUTH Authentication required.']), 'NOAUTH');
    assert.equal(authErrorIn(['{"error":"unauthorized","reason":"You are not a server admin."}']), 'unauthorized');
    assert.equal(authErrorIn(['CLIENT_ERROR unauthenticated']), 'CLIENT_ERROR unauthenticated');
    assert.equal(authErrorIn(['FATAL: no pg_hba.conf entry for host "10.0.0.1"']), 'no pg_hba.conf entry');
    assert.equal(authErrorIn(['+PONG', undefined, null]), undefined);
  });

  it('lets evidence of data read win over an error word inside the data', () => {
    const block = { keyspace: { db0: { keys: 1 } }, server: { note: 'unauthorized keys cleaned' } };
    assert.equal(judgeBlock('redis', block, ['unauthorized']).auth, 'open');
    assert.equal(judgeBlock('mongodb', { authentication: true, listDatabases: { databases: [{ name: 'x' }] } }).auth, 'auth_required');
    assert.equal(judgeBlock(null, {}, ['NOAUTH']).auth, null, 'no module, no claim');
  });
});

describe('detectFormat', () => {
  const d = (s: string) => detectFormat(Buffer.from(s));
  it('recognises each tool from its first bytes', () => {
    assert.equal(d('{"ip_str":"1.2.3.4","port":1}\n'), 'shodan');
    assert.equal(d('\uFEFF{"matches":[],"total":0}'), 'shodan');
    assert.equal(d('{"ip":"1.2.3.4","services":[]}'), 'censys');
    assert.equal(d('{"ip":"1.2.3.4","data":{"redis":{"status":"success","protocol":"redis"}}}'), 'zgrab2');
    assert.equal(d('#masscan\nopen tcp 1 1.2.3.4 1\n'), 'masscan');
    assert.equal(d('[\n{ "ip": "1.2.3.4", "ports": [ {"port": 1} ] }\n'), 'masscan');
    assert.equal(d('<?xml version="1.0"?>\n<nmaprun scanner="nmap" version="7.94">'), 'nmap');
    assert.equal(d('<?xml version="1.0"?>\r\n<nmaprun scanner="masscan" start="1">'), 'masscan');
    assert.equal(d('{\n  "result": {\n    "hits": [\n      {"ip": "1.2.3.4", "services": [{"service_name": "X"'), 'censys');
    assert.equal(d('hello'), undefined);
    assert.equal(d('<html></html>'), undefined);
  });
});
