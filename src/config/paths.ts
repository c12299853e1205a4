import { isAbsolute, join, resolve } from 'node:path';

/** Environment variables as `process.env` holds them; passed in so tests control them. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface PathContext {
  /** Directory that relative paths are taken from: the config file's, or the working directory. */
  baseDir: string;
  home: string;
}

/**
 * A path as written in the config: `~` and `~/…` mean the home directory (the shell does not
 * expand them inside YAML), and a relative path is taken from the config file's directory, not
 * from wherever the daemon happens to be started.
 */
export function resolvePath(path: string, { baseDir, home }: PathContext): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return resolve(baseDir, path);
}

/** `$XDG_STATE_HOME/hbd/hbd.sqlite`; the XDG spec says to ignore an empty or relative value. */
export function defaultPickfile(env: Env, home: string): string {
  const xdg = env.XDG_STATE_HOME;
  const stateHome = xdg && isAbsolute(xdg) ? xdg : join(home, '.local', 'state');
  return join(stateHome, 'hbd', 'hbd.sqlite');
}
