import { describe, expect, it } from 'vitest';
import type { ShadowEvents } from '../../src/cluster/role-sink.js';
import { reconcile } from '../../src/cluster/takeover.js';
import type { HostEvent } from '../../src/model/events.js';
import { hostRecord } from '../helpers/host-record.js';

/**
 * What a node taking over stores so the history matches its state machine: the changes the
 * dead leader never stored, told with this node's own events where it made them.
 */

const NOW = 50_000;
type NewEvent = Omit<HostEvent, 'id'>;

function shadows(entries: Record<string, ShadowEvents>): (host: string) => ShadowEvents | undefined {
  return (host) => entries[host];
}

function stateEvent(host: string, from: string | null, to: string, at: number, reason: string): NewEvent {
  return { at, host, kind: 'state', from, to, reason };
}

describe('reconciling a new leader with what the last one stored', () => {
  it('stores nothing for a host whose stored state and status are this node’s', () => {
    const plan = reconcile([hostRecord('web1')], [hostRecord('web1')], shadows({}), 'b', NOW);
    expect(plan).toEqual({ events: [], unknown: [] });
  });

  it('stores the change this node’s state machine made, from the stored state, with its own time and reason', () => {
    const made = stateEvent('web1', 'late', 'down', 41_000, 'no heartbeat for 6s (interval 1 s + grace 4 s)');
    const plan = reconcile(
      [hostRecord('web1', { state: 'down' })],
      [hostRecord('web1', { state: 'up' })],
      shadows({ web1: { state: made } }),
      'b',
      NOW,
    );
    // The stored history never saw "late": the event goes from what it did see.
    expect(plan.events).toEqual([{ ...made, from: 'up' }]);
  });

  it('says the node took over when its own state machine made no event that ends where the host is', () => {
    const plan = reconcile(
      [hostRecord('web1', { state: 'down' })],
      [hostRecord('web1', { state: 'up' })],
      shadows({ web1: { state: stateEvent('web1', 'up', 'late', 40_000, 'no heartbeat for 2s') } }),
      'b',
      NOW,
    );
    expect(plan.events).toEqual([
      stateEvent('web1', 'up', 'down', NOW, 'down when hbd node b took over as leader'),
    ]);
  });

  it('stores the arrival of a host no leader stored, at its first heartbeat', () => {
    const plan = reconcile(
      [hostRecord('new1', { firstSeen: 3_000, addr: '198.51.100.9' })],
      [],
      shadows({}),
      'c',
      NOW,
    );
    expect(plan.events).toEqual([
      stateEvent('new1', null, 'up', 3_000, 'first heartbeat, from 198.51.100.9'),
    ]);
  });

  it('stores a status change, with this node’s event when it made one, but never one to or from bye', () => {
    const made: NewEvent = {
      at: 42_000,
      host: 'db1',
      kind: 'status',
      from: 'ok',
      to: 'warn',
      reason: 'disk 91 %',
    };
    const plan = reconcile(
      [
        hostRecord('db1', { status: 'warn' }),
        hostRecord('db2', { status: 'fail' }),
        hostRecord('db3', { status: 'bye' }),
      ],
      [hostRecord('db1'), hostRecord('db2', { status: 'warn' }), hostRecord('db3')],
      shadows({ db1: { status: made } }),
      'a',
      NOW,
    );
    expect(plan.events).toEqual([
      made,
      {
        at: NOW,
        host: 'db2',
        kind: 'status',
        from: 'warn',
        to: 'fail',
        reason: 'reported fail when hbd node a took over as leader',
      },
    ]);
  });

  it('hands back the stored hosts this node does not know, for the caller to restore or delete', () => {
    const gone = hostRecord('old1', { state: 'late' });
    const plan = reconcile([hostRecord('web1')], [hostRecord('web1'), gone], shadows({}), 'b', NOW);
    expect(plan.unknown).toEqual([gone]);
    expect(plan.events).toEqual([]);
  });

  it('orders the events by time, oldest first, whatever the order of the hosts', () => {
    const plan = reconcile(
      [hostRecord('late1', { state: 'down' }), hostRecord('early1', { state: 'down' })],
      [hostRecord('late1'), hostRecord('early1')],
      shadows({
        late1: { state: stateEvent('late1', 'late', 'down', 45_000, 'no heartbeat') },
        early1: { state: stateEvent('early1', 'late', 'down', 43_000, 'no heartbeat') },
      }),
      'b',
      NOW,
    );
    expect(plan.events.map((event) => event.host)).toEqual(['early1', 'late1']);
  });
});
