import { z } from 'zod';
import { intAtLeast } from '../lib/schema-leaves.js';

const HOST_LABEL = /^[a-z][a-z0-9_]{0,63}$/;
const HOST_LABEL_RULE =
  'a heartbeat field name that is also a Prometheus label name: a lower-case letter, then up to 63 lower-case letters, digits or _';
/** Names a `metrics.host_labels` entry cannot take, and why. */
const NOT_HOST_LABELS: Readonly<Record<string, string>> = {
  // hbd's own labels on the per-host series.
  host: 'hbd sets the host label itself',
  status: 'hbd sets the status label itself',
  // Prometheus sets these on every series it scrapes, and renames a clashing one.
  job: 'Prometheus sets the job label itself',
  instance: 'Prometheus sets the instance label itself',
  // Heartbeat keys that hbd reads itself (docs/protocol.md): never a host field.
  ...Object.fromEntries(
    ['msg', 'seq', 'ts', 'every', 'ip4', 'ip6', 'key', 'sig'].map((key) => [
      key,
      `"${key}" is a heartbeat key hbd reads itself, not a host field`,
    ]),
  ),
};
const MAX_HOST_LABELS = 10;

/** One `metrics.host_labels` entry; the problem names the entry, since a list's index is easy to miscount. */
const hostLabel = z.string(`expected ${HOST_LABEL_RULE}`).superRefine((name, ctx) => {
  const clash = Object.hasOwn(NOT_HOST_LABELS, name) ? NOT_HOST_LABELS[name] : undefined;
  if (clash !== undefined) ctx.addIssue({ code: 'custom', message: `"${name}": ${clash}` });
  else if (!HOST_LABEL.test(name))
    ctx.addIssue({ code: 'custom', message: `"${name}": expected ${HOST_LABEL_RULE}` });
});

/** The per-host series on /metrics (docs/prometheus.md). */
export function metricsSection() {
  const error = 'expected a map with host_labels and max_hosts';
  const labelsError = `expected a list of at most ${MAX_HOST_LABELS} heartbeat field names`;
  return z
    .object(
      {
        // Host fields copied onto every per-host series as labels, so alerts can be routed by them.
        host_labels: z
          .array(hostLabel, labelsError)
          .max(MAX_HOST_LABELS, labelsError)
          .superRefine((names, ctx) => {
            const seen = new Set<string>();
            for (const name of names) {
              if (seen.has(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is listed twice` });
              seen.add(name);
            }
          })
          .default([]),
        // Hosts with series of their own, the first by name: bounds the scrape's size and cost.
        max_hosts: intAtLeast(0).default(10_000),
      },
      error,
    )
    .prefault({});
}
