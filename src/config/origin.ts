import { type Document, isNode, type LineCounter, type Node } from 'yaml';
import type { EnvOverride } from './env.js';
import type { Locate } from './errors.js';

/** `hb.yaml:7`, or just `hb.yaml` when the node has no position (an empty file). */
export function nodeWhere(
  sourceName: string,
  node: Node | null | undefined,
  lineCounter: LineCounter,
): string {
  const offset = node?.range?.[0];
  return offset === undefined ? sourceName : `${sourceName}:${lineCounter.linePos(offset).line}`;
}

/**
 * Tells where the value at a path came from: the environment variable that set it (or a map
 * around it), else its line in the file. A key missing from the file is reported at the map
 * that should hold it.
 */
export function makeLocate(
  doc: Document,
  lineCounter: LineCounter,
  sourceName: string,
  overrides: readonly EnvOverride[],
): Locate {
  return (path) => {
    // Variables are applied outer map first, so the deepest one covering the path set its value.
    let override: EnvOverride | undefined;
    for (const candidate of overrides) {
      const covers = candidate.path.every((key, i) => key === path[i]);
      if (covers && candidate.path.length > (override?.path.length ?? 0)) override = candidate;
    }
    if (override) return { where: `$${override.variable}`, keyPath: path.slice(override.path.length) };
    for (let depth = path.length; depth >= 0; depth--) {
      const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
      if (isNode(node)) return { where: nodeWhere(sourceName, node, lineCounter), keyPath: path };
    }
    return { where: sourceName, keyPath: path };
  };
}
