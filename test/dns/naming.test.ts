import { describe, expect, it } from 'vitest';
import { placeRecord } from '../../src/dns/naming.js';

const domains = ['dyn.example.test', 'lab.example.test'];

describe('which name a host is published under', () => {
  it('a host inside a dyndomain keeps its own name, in that zone', () => {
    expect(placeRecord('web1.dyn.example.test', domains)).toEqual({
      ok: true,
      name: 'web1.dyn.example.test',
      zone: 'dyn.example.test',
    });
    expect(placeRecord('Pi.Lab.Example.Test', domains)).toEqual({
      ok: true,
      name: 'pi.lab.example.test',
      zone: 'lab.example.test',
    });
  });

  it('a bare name goes under the first dyndomain', () => {
    expect(placeRecord('web1', domains)).toEqual({
      ok: true,
      name: 'web1.dyn.example.test',
      zone: 'dyn.example.test',
    });
  });

  it('the most specific dyndomain wins, and dns.zone overrides the zone', () => {
    expect(placeRecord('a.sub.dyn.example.test', ['dyn.example.test', 'sub.dyn.example.test'])).toMatchObject(
      {
        zone: 'sub.dyn.example.test',
      },
    );
    expect(placeRecord('web1', domains, 'example.test')).toEqual({
      ok: true,
      name: 'web1.dyn.example.test',
      zone: 'example.test',
    });
  });

  it('a dyndomain or zone written as an absolute name (trailing dot, any case) places exactly as without', () => {
    const absolute = ['Dyn.Example.Test.', 'lab.example.test.'];
    for (const host of ['web1.dyn.example.test', 'web1', 'pi.lab.example.test', 'www.example.com']) {
      expect(placeRecord(host, absolute)).toEqual(placeRecord(host, domains));
    }
    expect(placeRecord('web1.dyn.example.test', absolute)).toEqual({
      ok: true,
      name: 'web1.dyn.example.test',
      zone: 'dyn.example.test',
    });
    expect(placeRecord('web1', absolute, 'Example.Test.')).toEqual({
      ok: true,
      name: 'web1.dyn.example.test',
      zone: 'example.test',
    });
  });

  it('never places a record outside the dyndomains', () => {
    expect(placeRecord('www.example.com', domains)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/outside/),
    });
    expect(placeRecord('dyn.example.test', domains)).toMatchObject({ ok: false });
    expect(placeRecord('evildyn.example.test', domains)).toMatchObject({ ok: false });
    expect(placeRecord('web1', [])).toMatchObject({ ok: false, reason: 'no dyndomains are configured' });
  });

  it('refuses names that are not host names', () => {
    for (const hostile of ['web1;rm -rf /', 'a b', 'web1\nupdate delete example.test', '-web1', '']) {
      expect(placeRecord(hostile, domains)).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/not a valid host name/),
      });
    }
  });
});
