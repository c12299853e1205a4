import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The folders of src/, lowest first. A folder may import from its own layer and those below it,
 * never from above: the domain does not know the config file, drivers do not know the daemon.
 * docs/architecture.md explains each layer.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['protocol'],
  ['model'],
  ['lib'],
  ['state'],
  ['store'],
  ['notify', 'dns', 'push', 'ingest', 'auth', 'cluster'],
  ['config'],
  ['http', 'ws'],
  ['daemon'],
  ['cli'],
];

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function folderOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  return parts.length > 1 ? parts[0]! : '(src)';
}

/** Every import between two folders: from → to → the files that make it. */
function folderImports(): Map<string, Map<string, string[]>> {
  const edges = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
      const from = folderOf(file);
      const to = folderOf(resolve(dirname(file), match[1]!));
      if (from === to) continue;
      const targets = edges.get(from) ?? new Map<string, string[]>();
      targets.set(to, [...(targets.get(to) ?? []), relative(SRC, file)]);
      edges.set(from, targets);
    }
  }
  return edges;
}

const layerOf = new Map(
  LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)),
);

describe('the folders of src/', () => {
  const edges = folderImports();

  it('are each in a layer (a new folder needs a place in LAYERS and in docs/architecture.md)', () => {
    const folders = new Set(sourceFiles(SRC).map(folderOf));
    expect([...folders].filter((folder) => !layerOf.has(folder))).toEqual([]);
  });

  it('import only from their own layer or below', () => {
    const upward: string[] = [];
    for (const [from, targets] of edges) {
      for (const [to, files] of targets) {
        if ((layerOf.get(to) ?? 0) > (layerOf.get(from) ?? 0)) upward.push(`${from} → ${to} (${files[0]})`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('have no import cycles, within a layer either', () => {
    const cycles = new Set<string>();
    const visit = (folder: string, path: string[]) => {
      for (const next of edges.get(folder)?.keys() ?? []) {
        if (path.includes(next)) cycles.add([...path.slice(path.indexOf(next)), next].join(' → '));
        else visit(next, [...path, next]);
      }
    };
    for (const folder of edges.keys()) visit(folder, [folder]);
    expect([...cycles]).toEqual([]);
  });
});
