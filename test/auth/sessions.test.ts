import { describe, expect, it } from 'vitest';
import { SessionStore } from '../../src/auth/sessions.js';

const HOUR = 3_600_000;

function store(maxPerUser?: number) {
  let now = 1_000_000;
  const sessions = new SessionStore({ now: () => now, maxPerUser });
  return {
    sessions,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('sessions', () => {
  it('have random 32-byte ids and CSRF tokens, and are found by id only', () => {
    const { sessions } = store();
    const a = sessions.create('alice', 'admin', 'hash-a');
    const b = sessions.create('alice', 'admin', 'hash-a');
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.session.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.session.csrf).not.toBe(b.session.csrf);
    expect(sessions.get(a.id)).toMatchObject({ user: 'alice', role: 'admin' });
    expect(sessions.get(a.session.csrf)).toBeUndefined();
    expect(sessions.get(`${a.id}x`)).toBeUndefined();
    expect(sessions.get(undefined)).toBeUndefined();
  });

  it('end after 12 h unused; use keeps them alive', () => {
    const { sessions, advance } = store();
    const idle = sessions.create('alice', 'viewer', 'h').id;
    const busy = sessions.create('bob', 'viewer', 'h').id;
    advance(11 * HOUR);
    expect(sessions.get(busy)).toBeDefined();
    advance(HOUR);
    expect(sessions.get(idle)).toBeUndefined();
    expect(sessions.get(busy)).toBeDefined();
  });

  it('end 7 days after login, however busy', () => {
    const { sessions, advance } = store();
    const { id } = sessions.create('alice', 'viewer', 'h');
    for (let hours = 0; hours < 7 * 24 - 1; hours++) {
      advance(HOUR);
      expect(sessions.get(id)).toBeDefined();
    }
    advance(HOUR);
    expect(sessions.get(id)).toBeUndefined();
  });

  it('end at logout', () => {
    const { sessions } = store();
    const { id } = sessions.create('alice', 'viewer', 'h');
    expect(sessions.end(id)).toBe(true);
    expect(sessions.get(id)).toBeUndefined();
    expect(sessions.end(id)).toBe(false);
  });

  it('are at most N per user: the oldest ends', () => {
    const { sessions } = store(3);
    const ids = Array.from({ length: 5 }, () => sessions.create('alice', 'viewer', 'h').id);
    const other = sessions.create('bob', 'viewer', 'h').id;
    expect(ids.map((id) => sessions.get(id) !== undefined)).toEqual([false, false, true, true, true]);
    expect(sessions.get(other)).toBeDefined();
    expect(sessions.size).toBe(4);
  });

  it('end when the config drops their user or changes its role or password', () => {
    const { sessions } = store();
    const alice = sessions.create('alice', 'admin', 'hash-a').id;
    const bob = sessions.create('bob', 'admin', 'hash-b').id;
    const carol = sessions.create('carol', 'viewer', 'hash-c').id;
    const dave = sessions.create('dave', 'viewer', 'hash-d').id;
    const ended = sessions.keepOnly({
      alice: { password: 'hash-a', role: 'admin' },
      bob: { password: 'hash-b', role: 'viewer' },
      carol: { password: 'hash-c2', role: 'viewer' },
    });
    expect(ended).toBe(3);
    expect(sessions.get(alice)).toBeDefined();
    expect([bob, carol, dave].map((id) => sessions.get(id))).toEqual([undefined, undefined, undefined]);
  });
});
