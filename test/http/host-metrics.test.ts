/**
 * The per-host series on /metrics, against a real hbd: they follow each host's state, carry the
 * configured host fields as labels (made inert and bounded: heartbeats are anyone's), and stop at
 * `metrics.max_hosts`, counting the hosts left out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '../../src/config/example.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { MAX_LABEL_VALUE_CHARS } from '../../src/http/host-metrics.js';
import type { HostState } from '../../src/model/events.js';
import { eventually, startTestDaemon, type TestConfig, type TestDaemon } from '../helpers/daemon.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { byLabel, parseExposition, type Sample, unlabelled } from '../prometheus/exposition.js';

const TOKEN = 'the-api-token-of-the-metrics-tests';

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

async function scrape(): Promise<Sample[]> {
  const response = await fetch(hbd!.url('/metrics'));
  expect(response.status).toBe(200);
  return parseExposition(await response.text());
}

/** Sends a heartbeat and waits until hbd holds the host in `state`. */
async function beat(datagram: string, state: HostState = 'up'): Promise<void> {
  const host = /host=(\S+)/.exec(datagram)![1]!;
  await hbd!.send(datagram);
  await eventually(() => expect(hbd!.daemon.hosts.find(host)?.state).toBe(state), 5000);
}

function hostSeries(samples: readonly Sample[], host: string): Sample[] {
  return samples.filter((sample) => sample.name.startsWith('hbd_host_') && sample.labels.host === host);
}

describe('per-host series', () => {
  it('follow each host through up, late, down and left, and disappear when it is forgotten', async () => {
    const clock = new ManualClock();
    hbd = await startTestDaemon({ grace: 30, api_token: TOKEN }, undefined, clock);
    const heardAt = clock.wall() / 1000;
    await beat('host=up1 every=600 status=warn');
    await beat('host=late1 every=20');
    await beat('host=down1 every=5');
    await beat('host=left1 status=bye', 'left');
    // down1 is due after 5 s + 30 s of grace, late1 is late after 20 s and down only after 50.
    clock.advance(45_000);
    await eventually(() => expect(hbd!.daemon.hosts.find('down1')?.state).toBe('down'), 5000);
    expect(hbd.daemon.hosts.find('late1')?.state).toBe('late');

    const samples = await scrape();
    expect(byLabel(samples, 'hbd_host_up', 'host')).toEqual({ down1: 0, late1: 1, up1: 1 });
    const current = samples.filter((sample) => sample.name === 'hbd_host_status' && sample.value === 1);
    expect(Object.fromEntries(current.map((sample) => [sample.labels.host, sample.labels.status]))).toEqual({
      down1: 'ok',
      late1: 'ok',
      left1: 'bye',
      up1: 'warn',
    });
    // One series per status, so a status change moves a value instead of ending a series.
    expect(hostSeries(samples, 'up1').filter((sample) => sample.name === 'hbd_host_status')).toEqual(
      ['ok', 'warn', 'fail', 'bye'].map((status) => ({
        name: 'hbd_host_status',
        labels: { host: 'up1', status },
        value: status === 'warn' ? 1 : 0,
      })),
    );
    expect(byLabel(samples, 'hbd_host_last_seen_timestamp_seconds', 'host')).toEqual({
      down1: heardAt,
      late1: heardAt,
      left1: heardAt,
      up1: heardAt,
    });
    expect(unlabelled(samples, 'hbd_host_series_dropped')).toBe(0);

    // Back: up again, heard later. Left, then heard again: it has an up series once more.
    await beat('host=down1 every=5');
    await beat('host=left1 status=ok');
    const forget = await fetch(hbd.url('/api/hosts/late1'), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(forget.status).toBeLessThan(300);
    await eventually(() => expect(hbd!.daemon.hosts.has('late1')).toBe(false));

    const after = await scrape();
    expect(byLabel(after, 'hbd_host_up', 'host')).toEqual({ down1: 1, left1: 1, up1: 1 });
    expect(hostSeries(after, 'late1')).toEqual([]);
    expect(byLabel(after, 'hbd_host_last_seen_timestamp_seconds', 'host')).toMatchObject({
      down1: heardAt + 45,
      up1: heardAt,
    });
  });

  it('carry the configured host fields as labels, made inert and cut to a bound', async () => {
    hbd = await startTestDaemon({ metrics: { host_labels: ['site', 'role'] } });
    const long = 'x'.repeat(200);
    const wide = '😀'.repeat(200);
    await beat('host=web1 site=ams1 role=web other=ignored');
    await beat(`host=web2 site="say \\"hi\\" \\\\ bye" role=${long}`);
    await beat(`host=web3 site="tab\\there\\nnewline \u202eevil" role=${wide}`);
    await beat('host=web4');

    const samples = await scrape();
    const labelsOf = (host: string) =>
      samples.find((sample) => sample.name === 'hbd_host_up' && sample.labels.host === host)?.labels;
    expect(labelsOf('web1')).toEqual({ host: 'web1', site: 'ams1', role: 'web' });
    expect(labelsOf('web2')).toEqual({
      host: 'web2',
      site: 'say "hi" \\ bye',
      role: 'x'.repeat(MAX_LABEL_VALUE_CHARS),
    });
    // Control and direction characters are written out, and a cut never splits a character.
    expect(labelsOf('web3')).toEqual({
      host: 'web3',
      site: 'tab\\there\\nnewline \\u202eevil',
      role: '😀'.repeat(MAX_LABEL_VALUE_CHARS),
    });
    // A host without the field has the label empty, which Prometheus reads as no label.
    expect(labelsOf('web4')).toEqual({ host: 'web4', site: '', role: '' });
    // Every per-host series carries them, hbd's own labels included.
    for (const sample of hostSeries(samples, 'web1')) {
      expect(sample.labels).toMatchObject({ host: 'web1', site: 'ams1', role: 'web' });
    }
    expect(hostSeries(samples, 'web1').map((sample) => sample.name)).toEqual([
      'hbd_host_up',
      'hbd_host_status',
      'hbd_host_status',
      'hbd_host_status',
      'hbd_host_status',
      'hbd_host_last_seen_timestamp_seconds',
    ]);
  });

  it('stop at max_hosts, keeping the first hosts by name and counting the rest', async () => {
    hbd = await startTestDaemon({ metrics: { max_hosts: 2 } });
    for (const host of ['charlie', 'alpha', 'delta', 'bravo']) await beat(`host=${host}`);

    const samples = await scrape();
    expect(byLabel(samples, 'hbd_host_up', 'host')).toEqual({ alpha: 1, bravo: 1 });
    expect(new Set(samples.filter((s) => s.name.startsWith('hbd_host_')).map((s) => s.labels.host))).toEqual(
      new Set(['alpha', 'bravo', undefined]),
    );
    expect(unlabelled(samples, 'hbd_host_series_dropped')).toBe(2);
    // The fleet's own counts still cover every host.
    expect(byLabel(samples, 'hbd_hosts', 'state')).toMatchObject({ up: 4 });
  });

  it('are off with max_hosts: 0, and the hosts are counted as left out', async () => {
    hbd = await startTestDaemon({ metrics: { max_hosts: 0 } });
    await beat('host=web1');
    const samples = await scrape();
    expect(samples.filter((sample) => sample.name.startsWith('hbd_host_') && sample.labels.host)).toEqual([]);
    expect(unlabelled(samples, 'hbd_host_series_dropped')).toBe(1);
  });
});

describe('metrics config', () => {
  function problems(metrics: TestConfig): string[] {
    try {
      parseConfig(JSON.stringify({ metrics }), {
        sourceName: 'hb.yaml',
        baseDir: '/etc/hbd',
        env: {},
        home: '/',
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected the config to be rejected');
  }

  it('defaults to no labels and 10,000 hosts, as the example config says', () => {
    for (const text of ['', DEFAULT_CONFIG_YAML]) {
      const { config } = parseConfig(text, {
        sourceName: 'hb.yaml',
        baseDir: '/etc/hbd',
        env: {},
        home: '/',
      });
      expect(config.metrics).toEqual({ host_labels: [], max_hosts: 10_000 });
    }
    expect(DEFAULT_CONFIG_YAML).toContain('\nmetrics:\n');
  });

  it('refuses label names Prometheus cannot take, that no field can have, or that clash', () => {
    const found = problems({
      host_labels: ['site', 'Site', 'rack-id', '__name', 'host', 'status', 'job', 'msg'],
    });
    expect(found).toHaveLength(7);
    expect(found.join('\n')).toContain(
      '"Site": expected a heartbeat field name that is also a Prometheus label name',
    );
    expect(found.join('\n')).toContain('"rack-id": expected');
    expect(found.join('\n')).toContain('"__name": expected');
    expect(found.join('\n')).toContain('"host": hbd sets the host label itself');
    expect(found.join('\n')).toContain('"status": hbd sets the status label itself');
    expect(found.join('\n')).toContain('"job": Prometheus sets the job label itself');
    expect(found.join('\n')).toContain('"msg": "msg" is a heartbeat key hbd reads itself');
  });

  it('refuses a label listed twice, too many labels, and a negative cap', () => {
    expect(problems({ host_labels: ['site', 'site'] }).join('\n')).toContain('"site" is listed twice');
    const many = Array.from({ length: 11 }, (_, index) => `field${index}`);
    expect(problems({ host_labels: many }).join('\n')).toContain(
      'a list of at most 10 heartbeat field names',
    );
    expect(problems({ max_hosts: -1 }).join('\n')).toContain('expected an integer of at least 0');
  });
});
