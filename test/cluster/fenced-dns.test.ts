import { expect, it } from 'vitest';
import { fencedUpdater } from '../../src/cluster/fenced-dns.js';
import { DnsUpdateError, type DnsUpdater, type UpdateRequest } from '../../src/dns/update-types.js';

const REQUEST: UpdateRequest = {
  zone: 'dyn.example.test',
  changes: [{ name: 'web1.dyn.example.test', type: 'A', address: '198.51.100.7', ttl: 60 }],
};

function recording(): DnsUpdater & { sent: UpdateRequest[] } {
  const sent: UpdateRequest[] = [];
  return { method: 'rfc2136', sent, update: async (request) => void sent.push(request) };
}

it('a node that leads by its own clock sends the update', async () => {
  const inner = recording();
  await fencedUpdater(inner, () => true).update(REQUEST);
  expect(inner.sent).toEqual([REQUEST]);
});

it('a node whose lease ran out sends nothing, and the refusal is retryable and says why', async () => {
  const inner = recording();
  const error = await fencedUpdater(inner, () => false)
    .update(REQUEST)
    .catch((reason: unknown) => reason);
  expect(inner.sent).toEqual([]);
  expect(error).toBeInstanceOf(DnsUpdateError);
  expect(error).toMatchObject({ retryable: true, message: expect.stringContaining('no longer leads') });
});

it('asks each time: a node that leads again sends again', async () => {
  const inner = recording();
  let leads = false;
  const updater = fencedUpdater(inner, () => leads);
  await expect(updater.update(REQUEST)).rejects.toThrow();
  leads = true;
  await updater.update(REQUEST);
  expect(inner.sent).toHaveLength(1);
});
