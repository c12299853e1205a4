import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sessions, TOUCH_EVERY_MS } from '../../src/auth/sessions.js';
import type { AuthUsers } from '../../src/auth/users.js';
import type { Store } from '../../src/store/store.js';
import { sqliteStore } from '../store/helpers.js';

const HOUR = 3_600_000;
const opened: Store[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

function setup(maxPerUser?: number, users?: () => AuthUsers, path?: string) {
  let now = 1_000_000;
  const store = sqliteStore(path);
  opened.push(store);
  const sessions = new Sessions({ store: store.sessions, now: () => now, maxPerUser, users });
  return {
    store,
    sessions,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('sessions', () => {
  it('have random 32-byte ids and CSRF tokens, and are found by id only', async () => {
    const { sessions } = setup();
    const a = await sessions.create('alice', 'admin', 'hash-a');
    const b = await sessions.create('alice', 'admin', 'hash-a');
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.session.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.session.csrf).not.toBe(b.session.csrf);
    expect(await sessions.get(a.id)).toMatchObject({ user: 'alice', role: 'admin' });
    expect(await sessions.get(a.session.csrf)).toBeUndefined();
    expect(await sessions.get(`${a.id}x`)).toBeUndefined();
    expect(await sessions.get(undefined)).toBeUndefined();
  });

  it('store neither the id nor the password hash, only digests of them', async () => {
    const { sessions, store } = setup();
    const { id } = await sessions.create('alice', 'admin', 'hash-a');
    const [stored] = await store.sessions.list();
    expect(stored?.key).not.toBe(id);
    expect(stored?.credential).not.toBe('hash-a');
    expect(JSON.stringify(stored)).not.toContain(id);
    expect(JSON.stringify(stored)).not.toContain('hash-a');
  });

  it('end after 12 h unused; use keeps them alive', async () => {
    const { sessions, advance } = setup();
    const idle = (await sessions.create('alice', 'viewer', 'h')).id;
    const busy = (await sessions.create('bob', 'viewer', 'h')).id;
    advance(11 * HOUR);
    expect(await sessions.get(busy)).toBeDefined();
    advance(HOUR);
    expect(await sessions.get(idle)).toBeUndefined();
    expect(await sessions.get(busy)).toBeDefined();
  });

  it('write their use at most once a minute, so that reading them stays cheap', async () => {
    const { sessions, store, advance } = setup();
    const { id } = await sessions.create('alice', 'viewer', 'h');
    const lastSeen = async () => (await store.sessions.list())[0]?.lastSeen;
    const created = await lastSeen();
    advance(TOUCH_EVERY_MS - 1);
    await sessions.get(id);
    expect(await lastSeen()).toBe(created);
    advance(1);
    await sessions.get(id);
    expect(await lastSeen()).toBe(created! + TOUCH_EVERY_MS);
  });

  it('end 7 days after login, however busy', async () => {
    const { sessions, advance } = setup();
    const { id } = await sessions.create('alice', 'viewer', 'h');
    for (let hours = 0; hours < 7 * 24 - 1; hours++) {
      advance(HOUR);
      expect(await sessions.get(id)).toBeDefined();
    }
    advance(HOUR);
    expect(await sessions.get(id)).toBeUndefined();
  });

  it('end at logout', async () => {
    const { sessions } = setup();
    const { id } = await sessions.create('alice', 'viewer', 'h');
    expect(await sessions.end(id)).toBe(true);
    expect(await sessions.get(id)).toBeUndefined();
    expect(await sessions.end(id)).toBe(false);
  });

  it('are at most N per user: the oldest ends', async () => {
    const { sessions } = setup(3);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await sessions.create('alice', 'viewer', 'h')).id);
    const other = (await sessions.create('bob', 'viewer', 'h')).id;
    const live = [];
    for (const id of ids) live.push((await sessions.get(id)) !== undefined);
    expect(live).toEqual([false, false, true, true, true]);
    expect(await sessions.get(other)).toBeDefined();
    expect(await sessions.count()).toBe(4);
  });

  it('end when the config drops their user or changes its role or password', async () => {
    const { sessions } = setup();
    const alice = (await sessions.create('alice', 'admin', 'hash-a')).id;
    const bob = (await sessions.create('bob', 'admin', 'hash-b')).id;
    const carol = (await sessions.create('carol', 'viewer', 'hash-c')).id;
    const dave = (await sessions.create('dave', 'viewer', 'hash-d')).id;
    const ended = await sessions.keepOnly({
      alice: { password: 'hash-a', role: 'admin' },
      bob: { password: 'hash-b', role: 'viewer' },
      carol: { password: 'hash-c2', role: 'viewer' },
    });
    expect(ended).toBe(3);
    expect(await sessions.get(alice)).toBeDefined();
    for (const id of [bob, carol, dave]) expect(await sessions.get(id)).toBeUndefined();
  });

  it('end at their next use when the users changed while hbd was not running', async () => {
    let users: AuthUsers = { alice: { password: 'hash-a', role: 'admin' } };
    const { sessions } = setup(undefined, () => users);
    const { id } = await sessions.create('alice', 'admin', 'hash-a');
    expect(await sessions.get(id)).toBeDefined();
    users = { alice: { password: 'hash-a', role: 'viewer' } };
    expect(await sessions.get(id)).toBeUndefined();
    users = { alice: { password: 'hash-a', role: 'admin' } };
    expect(await sessions.get(id)).toBeUndefined();
  });

  it('survive reopening the store: a restart logs nobody out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbd-sessions-'));
    try {
      const path = join(dir, 'state.sqlite');
      const first = setup(undefined, undefined, path);
      const { id, session } = await first.sessions.create('alice', 'admin', 'hash-a');
      await first.store.close();
      opened.splice(opened.indexOf(first.store), 1);
      const second = setup(undefined, () => ({ alice: { password: 'hash-a', role: 'admin' } }), path);
      expect(await second.sessions.get(id)).toEqual(session);
    } finally {
      for (const store of opened.splice(0)) await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
