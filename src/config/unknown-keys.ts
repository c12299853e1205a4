import { isMap, isScalar, type Node } from 'yaml';
import type { z } from 'zod';
import { childSchema, mapShape } from './schema-shape.js';
import { closest } from './suggest.js';

type Schema = z.core.$ZodType;

export interface UnknownKey {
  /** Path up to and including the unknown key. */
  path: string[];
  /** The known key at the same place that it most likely meant, as a full path. */
  suggestion: string[] | undefined;
}

export interface UnknownKeyInFile extends UnknownKey {
  /** The key's node, to tell its line. */
  node: Node;
}

/** Keys of a parsed YAML document that the schema does not know, at any depth of known maps. */
export function unknownKeysInDocument(
  node: unknown,
  schema: Schema,
  path: string[] = [],
): UnknownKeyInFile[] {
  const shape = mapShape(schema);
  if (!isMap(node) || shape.kind === 'opaque' || shape.kind === 'not-a-map') return [];
  const found: UnknownKeyInFile[] = [];
  for (const { key, value } of node.items) {
    if (!isScalar(key)) continue;
    const name = String(key.value);
    const child = childSchema(shape, name);
    if (child !== undefined) {
      found.push(...unknownKeysInDocument(value, child, [...path, name]));
      continue;
    }
    const near = shape.kind === 'fixed' ? closest(name, Object.keys(shape.keys)) : undefined;
    found.push({
      path: [...path, name],
      suggestion: near === undefined ? undefined : [...path, near],
      node: key,
    });
  }
  return found;
}

/** The first step of `path` that names no setting, or null when the whole path is known. */
export function unknownStep(schema: Schema, path: readonly string[]): UnknownKey | null {
  let current = schema;
  for (const [index, name] of path.entries()) {
    const shape = mapShape(current);
    if (shape.kind === 'opaque') return null;
    const child = childSchema(shape, name);
    if (child === undefined) {
      const prefix = path.slice(0, index);
      const near = shape.kind === 'fixed' ? closest(name, Object.keys(shape.keys)) : undefined;
      return { path: [...prefix, name], suggestion: near === undefined ? undefined : [...prefix, near] };
    }
    current = child;
  }
  return null;
}
