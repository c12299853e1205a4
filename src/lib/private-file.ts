// Default import on purpose: the namespace object of `node:fs` is frozen, the default one is
// not, which lets tests stand in for a disk that fills up halfway through a write.
import fs from 'node:fs';

/**
 * The mode of every file hbd creates: the state file and its -wal/-shm, the beat log, the
 * journal and the log hold host names, addresses and messages that are nobody else's business.
 */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Opens `path` for appending (`a`) or reading and appending (`a+`). A file this call creates is
 * 0600 whatever the umask (the mode given to open(2) only loses bits to it, and an odd umask
 * could even take the owner's write bit); an existing file keeps the mode it has.
 */
export function openPrivate(path: string, flags: 'a' | 'a+'): number {
  let fd: number;
  try {
    fd = fs.openSync(path, flags === 'a' ? 'ax' : 'ax+', PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return fs.openSync(path, flags);
  }
  try {
    fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  return fd;
}

/** Creates `path` empty and 0600 unless it exists; says whether it did. */
export function createPrivate(path: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, 'ax', PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Takes group and world access away from a file only hbd should read (the state file, the
 * beat log), and says whether it had to; a missing file is left missing.
 */
export function tightenPrivate(path: string): boolean {
  let mode: number;
  try {
    mode = fs.statSync(path).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if ((mode & 0o077) === 0) return false;
  fs.chmodSync(path, mode & 0o700);
  return true;
}
