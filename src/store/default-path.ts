import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Where the embedded database lives when the user names none:
 * 1. `$LOCKDOWN_DB`, if set;
 * 2. `$XDG_DATA_HOME/lockdown/lockdown.db`, if set to an absolute path (the XDG spec says to ignore a
 *    relative one), on any platform: setting it is an explicit choice;
 * 3. macOS: `~/Library/Application Support/lockdown/lockdown.db`;
 *    Windows: `%LOCALAPPDATA%\lockdown\lockdown.db`;
 *    elsewhere: `~/.local/share/lockdown/lockdown.db`.
 */
export function defaultDbPath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const override = env['LOCKDOWN_DB'];
  if (override) return override;
  const xdg = env['XDG_DATA_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'lockdown', 'lockdown.db');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'lockdown', 'lockdown.db');
  if (platform === 'win32') return join(env['LOCALAPPDATA'] || join(home, 'AppData', 'Local'), 'lockdown', 'lockdown.db');
  return join(home, '.local', 'share', 'lockdown', 'lockdown.db');
}
