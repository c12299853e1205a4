import { describe, expect, it } from 'vitest';
import { type DesiredRecords, type PublishOutcome, PublishQueue } from '../../src/dns/publish-queue.js';
import type { RecordChange } from '../../src/dns/update-types.js';
import { eventually } from '../helpers/daemon.js';

interface Sent {
  zone: string;
  changes: readonly RecordChange[];
  resolve: () => void;
  reject: (error: Error) => void;
}

function setup(options: { maxBatch?: number } = {}) {
  const sent: Sent[] = [];
  const outcomes: { host: string; outcome: PublishOutcome }[] = [];
  const queue = new PublishQueue({
    send: (zone, changes) =>
      new Promise<void>((resolve, reject) => {
        sent.push({ zone, changes, resolve, reject });
      }),
    onOutcome: (host, outcome) => outcomes.push({ host, outcome }),
    retryBaseMs: 20,
    retryMaxMs: 80,
    ...options,
  });
  return { queue, sent, outcomes };
}

const want = (host: string, A: string | null, zone = 'dyn.example.test'): DesiredRecords => ({
  host,
  name: `${host}.${zone}`,
  zone,
  ttl: 60,
  A,
});

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PublishQueue', () => {
  it('sends at once, one family per change, and reports success per host', async () => {
    const { queue, sent, outcomes } = setup();
    queue.want({ ...want('web1', '198.51.100.1'), AAAA: null });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.changes).toEqual([
      { name: 'web1.dyn.example.test', type: 'A', address: '198.51.100.1', ttl: 60 },
      { name: 'web1.dyn.example.test', type: 'AAAA', address: null, ttl: 60 },
    ]);
    sent[0]?.resolve();
    await settle();
    expect(outcomes).toEqual([
      { host: 'web1', outcome: { ok: true, records: expect.objectContaining({ A: '198.51.100.1' }) } },
    ]);
  });

  it('while a zone is busy, changes of one host collapse into the newest, and the rest go out in one batch', async () => {
    const { queue, sent } = setup();
    queue.want(want('web1', '198.51.100.1'));
    queue.want(want('web1', '198.51.100.2'));
    queue.want(want('web1', '198.51.100.3'));
    queue.want(want('web2', '198.51.100.9'));
    expect(sent).toHaveLength(1);
    expect(queue.pendingCount).toBe(2);
    sent[0]?.resolve();
    await settle();
    expect(sent).toHaveLength(2);
    expect(sent[1]?.changes.map((c) => `${c.name} ${c.address}`)).toEqual([
      'web1.dyn.example.test 198.51.100.3',
      'web2.dyn.example.test 198.51.100.9',
    ]);
  });

  it('zones do not wait for each other', () => {
    const { queue, sent } = setup();
    queue.want(want('web1', '198.51.100.1', 'a.example.test'));
    queue.want(want('web2', '198.51.100.2', 'b.example.test'));
    expect(sent.map((s) => s.zone)).toEqual(['a.example.test', 'b.example.test']);
  });

  it('splits a large backlog into batches of maxBatch', async () => {
    const { queue, sent } = setup({ maxBatch: 2 });
    for (let i = 0; i < 5; i++) queue.want(want(`h${i}`, `198.51.100.${i}`));
    for (let round = 0; round < 3; round++) {
      sent.at(-1)?.resolve();
      await settle();
    }
    expect(sent.map((s) => s.changes.length)).toEqual([1, 2, 2]);
  });

  it('retries a failure with growing backoff, and sends the newest address when it finally succeeds', async () => {
    const { queue, sent, outcomes } = setup();
    queue.want(want('web1', '198.51.100.1'));
    sent[0]?.reject(new Error('connection refused'));
    await settle();
    expect(outcomes[0]).toMatchObject({
      host: 'web1',
      outcome: { ok: false, retryInMs: expect.any(Number) },
    });
    queue.want(want('web1', '198.51.100.2'));
    expect(sent).toHaveLength(1); // the zone is backing off
    await eventually(() => expect(sent).toHaveLength(2));
    sent[1]?.reject(new Error('timeout'));
    await eventually(() => expect(sent).toHaveLength(3), 1000);
    const delays = outcomes.filter((o) => !o.outcome.ok).map((o) => (o.outcome.ok ? 0 : o.outcome.retryInMs));
    expect(delays[1]).toBeGreaterThan(delays[0]!);
    expect(sent[2]?.changes[0]?.address).toBe('198.51.100.2');
    sent[2]?.resolve();
    await settle();
    expect(outcomes.at(-1)).toMatchObject({ host: 'web1', outcome: { ok: true } });
  });

  it('caps the backoff at retryMaxMs', async () => {
    const { queue, sent, outcomes } = setup();
    queue.want(want('web1', '198.51.100.1'));
    for (let attempt = 0; attempt < 5; attempt++) {
      await eventually(() => expect(sent).toHaveLength(attempt + 1), 1000);
      sent[attempt]?.reject(new Error('down'));
      await settle();
    }
    const last = outcomes.at(-1)?.outcome;
    expect(last?.ok === false && last.retryInMs).toBeLessThanOrEqual(80);
    await queue.close();
  });

  it('on close, waits for the update in flight, so its outcome is recorded, and sends nothing pending', async () => {
    const { queue, sent, outcomes } = setup();
    queue.want(want('web1', '198.51.100.1'));
    queue.want(want('web2', '198.51.100.2'));
    let closed = false;
    const closing = queue.close().then(() => {
      closed = true;
    });
    await settle();
    expect(closed).toBe(false);
    sent[0]?.resolve();
    await closing;
    expect(outcomes).toEqual([{ host: 'web1', outcome: expect.objectContaining({ ok: true }) }]);
    expect(sent).toHaveLength(1);
    expect(queue.pendingCount).toBe(1);
  });

  it('on close, gives up waiting for an update that hangs after drainMs', async () => {
    const { queue, sent } = setup();
    queue.want(want('web1', '198.51.100.1'));
    const started = performance.now();
    await queue.close(50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(sent).toHaveLength(1);
  });
});
