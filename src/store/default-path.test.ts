import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultDbPath } from './default-path.js';

describe('defaultDbPath', () => {
  const home = '/home/alice';

  it('uses $LOCKDOWN_DB first, on every platform', () => {
    assert.equal(defaultDbPath({ LOCKDOWN_DB: '/srv/l.db', XDG_DATA_HOME: '/x' }, 'linux', home), '/srv/l.db');
    assert.equal(defaultDbPath({ LOCKDOWN_DB: 'rel/l.db' }, 'darwin', home), 'rel/l.db');
  });

  it('uses $XDG_DATA_HOME when it is absolute, else ~/.local/share', () => {
    assert.equal(defaultDbPath({ XDG_DATA_HOME: '/data' }, 'linux', home), '/data/lockdown/lockdown.db');
    assert.equal(defaultDbPath({ XDG_DATA_HOME: 'relative' }, 'linux', home), '/home/alice/.local/share/lockdown/lockdown.db');
    assert.equal(defaultDbPath({ LOCKDOWN_DB: '' }, 'linux', home), '/home/alice/.local/share/lockdown/lockdown.db');
    assert.equal(defaultDbPath({}, 'freebsd', home), '/home/alice/.local/share/lockdown/lockdown.db');
  });

  it('uses Application Support on macOS and LOCALAPPDATA on Windows', () => {
    assert.equal(defaultDbPath({}, 'darwin', '/Users/alice'), '/Users/alice/Library/Application Support/lockdown/lockdown.db');
    assert.equal(defaultDbPath({ LOCALAPPDATA: '/appdata' }, 'win32', home), join('/appdata', 'lockdown', 'lockdown.db'));
    assert.equal(defaultDbPath({}, 'win32', home), join(home, 'AppData', 'Local', 'lockdown', 'lockdown.db'));
  });

  it('reads the real environment by default', () => {
    const saved = process.env['LOCKDOWN_DB'];
    process.env['LOCKDOWN_DB'] = '/tmp/from-env.db';
    try {
      assert.equal(defaultDbPath(), '/tmp/from-env.db');
    } finally {
      if (saved === undefined) delete process.env['LOCKDOWN_DB'];
      else process.env['LOCKDOWN_DB'] = saved;
    }
  });
});
