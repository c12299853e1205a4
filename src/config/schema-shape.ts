import type { z } from 'zod';

type Schema = z.core.$ZodType;

/** What a map at some place of the config may hold, as far as unknown-key checks care. */
export type MapShape =
  /** Named settings: any other key is unknown. */
  | { kind: 'fixed'; keys: Readonly<Record<string, Schema>> }
  /** Names the user chooses (hosts, keys): every name is fine, each value has this schema. */
  | { kind: 'entries'; value: Schema }
  /** Content owned elsewhere (dns, notify): not checked. */
  | { kind: 'opaque' }
  | { kind: 'not-a-map' };

/**
 * Reads the map structure off the schema itself, so the known keys can never drift from what is
 * validated. Wrappers (defaults, nullable, preprocess) are looked through.
 */
export function mapShape(schema: Schema): MapShape {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'object':
      return { kind: 'fixed', keys: def.shape };
    case 'record':
      return { kind: 'entries', value: def.valueType };
    case 'unknown':
    case 'any':
      return { kind: 'opaque' };
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      return mapShape(def.innerType);
    case 'pipe':
      // A preprocess step is a pipe whose input side is the bare transform function.
      return mapShape(def.in._zod.def.type === 'transform' ? def.out : def.in);
    case 'union':
      for (const option of def.options) {
        const shape = mapShape(option);
        if (shape.kind !== 'not-a-map') return shape;
      }
      return { kind: 'not-a-map' };
    default:
      return { kind: 'not-a-map' };
  }
}

/** The schema for key `name` of a map with this shape; undefined when the map may not hold it. */
export function childSchema(shape: MapShape, name: string): Schema | undefined {
  if (shape.kind === 'entries') return shape.value;
  // hasOwn: a key such as "constructor" must not find Object.prototype's member.
  if (shape.kind === 'fixed' && Object.hasOwn(shape.keys, name)) return shape.keys[name];
  return undefined;
}
