/** One sample of a scrape in the Prometheus text format, its label values unescaped. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
const UNESCAPE: Record<string, string> = { '\\\\': '\\', '\\"': '"', '\\n': '\n' };

/** The samples of a scrape; a line that is neither a comment nor a sample fails the test. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample: ${line}`);
    const [, name, labelText = '', value] = match;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    let consumed = 0;
    for (let label = LABEL.exec(labelText); label; label = LABEL.exec(labelText)) {
      labels[label[1]!] = label[2]!.replace(/\\[\\"n]/g, (sequence) => UNESCAPE[sequence]!);
      consumed = LABEL.lastIndex;
    }
    if (consumed !== labelText.length) throw new Error(`cannot read the labels of: ${line}`);
    samples.push({ name: name!, labels, value: Number(value) });
  }
  return samples;
}

/** The samples of one metric, by the value of one label (`host`, say). */
export function byLabel(samples: readonly Sample[], name: string, label: string): Record<string, number> {
  return Object.fromEntries(
    samples.filter((sample) => sample.name === name).map((sample) => [sample.labels[label], sample.value]),
  );
}

/** The value of a metric without labels; undefined when the scrape does not have it. */
export function unlabelled(samples: readonly Sample[], name: string): number | undefined {
  return samples.find((sample) => sample.name === name && Object.keys(sample.labels).length === 0)?.value;
}
