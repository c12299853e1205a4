import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { type Component, Lifecycle } from '../../src/daemon/lifecycle.js';

function recorder() {
  const steps: string[] = [];
  const part = (name: string, extra: Partial<Component> = {}): Component => ({
    name,
    start: () => {
      steps.push(`start ${name}`);
    },
    stop: () => {
      steps.push(`stop ${name}`);
    },
    ...extra,
  });
  return { steps, part };
}

describe('Lifecycle', () => {
  it('starts in the order parts were added and stops in reverse', async () => {
    const { steps, part } = recorder();
    const lifecycle = new Lifecycle(() => {});
    for (const name of ['store', 'notify', 'http', 'udp']) lifecycle.add(part(name));
    await lifecycle.start();
    await lifecycle.stop();
    expect(steps).toEqual([
      'start store',
      'start notify',
      'start http',
      'start udp',
      'stop udp',
      'stop http',
      'stop notify',
      'stop store',
    ]);
  });

  it('stops what had started, in reverse, when a start fails, and throws the failure on', async () => {
    const { steps, part } = recorder();
    const lifecycle = new Lifecycle(() => {});
    lifecycle.add(part('store'));
    lifecycle.add(
      part('http', {
        start: () => {
          steps.push('start http');
          throw new Error('port 50004 is in use');
        },
      }),
    );
    lifecycle.add(part('udp'));
    await expect(lifecycle.start()).rejects.toThrow('port 50004 is in use');
    // The half-started part is stopped too (it may hold a socket); the one never started is not.
    expect(steps).toEqual(['start store', 'start http', 'stop http', 'stop store']);
  });

  it('stops a part adopted while already running in its place among the started ones', async () => {
    const { steps, part } = recorder();
    const lifecycle = new Lifecycle(() => {});
    lifecycle.adopt(part('store'));
    lifecycle.add(part('http'));
    await lifecycle.start();
    await lifecycle.stop();
    expect(steps).toEqual(['start http', 'stop http', 'stop store']);
  });

  it('stops what was adopted when the wiring fails before anything else started', async () => {
    const { steps, part } = recorder();
    const lifecycle = new Lifecycle(() => {});
    lifecycle.adopt(part('store'));
    lifecycle.adopt(part('writer'));
    await lifecycle.stop();
    expect(steps).toEqual(['stop writer', 'stop store']);
  });

  it('reports a part that fails to stop and still stops the others', async () => {
    const { steps, part } = recorder();
    const failures: string[] = [];
    const lifecycle = new Lifecycle((component, error) =>
      failures.push(`${component.name}: ${(error as Error).message}`),
    );
    lifecycle.add(part('store'));
    lifecycle.add(
      part('dns', {
        stop: () => {
          throw new Error('server gone');
        },
      }),
    );
    lifecycle.add(part('udp'));
    await lifecycle.start();
    await lifecycle.stop();
    expect(failures).toEqual(['dns: server gone']);
    expect(steps.filter((step) => step.startsWith('stop'))).toEqual(['stop udp', 'stop store']);
  });

  it('stops once, however often it is asked', async () => {
    const { steps, part } = recorder();
    const lifecycle = new Lifecycle(() => {});
    lifecycle.add(part('store'));
    await lifecycle.start();
    await Promise.all([lifecycle.stop(), lifecycle.stop()]);
    expect(steps.filter((step) => step === 'stop store')).toHaveLength(1);
  });

  it('reloads every part in start order, and knows the keys the parts apply', () => {
    const applied: string[] = [];
    const lifecycle = new Lifecycle(() => {});
    lifecycle.add({
      name: 'monitor',
      liveKeys: ['interval', 'grace'],
      reload: () => applied.push('monitor'),
    });
    lifecycle.add({ name: 'notify', liveKeys: ['grace'], reload: () => applied.push('notify') });
    lifecycle.add({ name: 'store' });
    lifecycle.reload({} as Config);
    expect(applied).toEqual(['monitor', 'notify']);
    expect([...lifecycle.liveKeys].sort()).toEqual(['grace', 'interval']);
  });
});
