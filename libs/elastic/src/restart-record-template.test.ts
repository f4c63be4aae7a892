import type { estypes } from '@elastic/elasticsearch';
import { restartRecordSchema } from '@killtrace/schemas';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { restartRecordMappings } from './index.js';

/** Dotted paths of every leaf field of a zod object schema (arrays of objects are walked into). */
function schemaLeaves(schema: z.ZodType, prefix: string[] = []): string[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodNullable || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  if (inner instanceof z.ZodArray && inner.element instanceof z.ZodObject) return schemaLeaves(inner.element as z.ZodType, prefix);
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => schemaLeaves(child, [...prefix, key]));
  }
  return [prefix.join('.')];
}

function mappingAt(path: string): estypes.MappingProperty | undefined {
  let properties = restartRecordMappings.properties;
  let found: estypes.MappingProperty | undefined;
  for (const part of path.split('.')) {
    found = properties?.[part];
    properties = found !== undefined && 'properties' in found ? found.properties : undefined;
  }
  return found;
}

const typeOf = (path: string): string | undefined => mappingAt(path)?.type;

describe('restart record mapping', () => {
  it('maps every field of the restart record schema', () => {
    const missing = schemaLeaves(restartRecordSchema).filter((path) => mappingAt(path) === undefined);
    expect(missing).toEqual([]);
  });

  it('uses the types CONTRACT.md names', () => {
    expect(typeOf('@timestamp')).toBe('date');
    expect(typeOf('killtrace.restart.count')).toBe('long');
    expect(typeOf('killtrace.uptime_seconds')).toBe('double');
    expect(typeOf('killtrace.probe_induced')).toBe('boolean');
    expect(typeOf('killtrace.cause')).toBe('keyword');
    expect(typeOf('killtrace.timeline')).toBe('nested');
    expect(typeOf('killtrace.timeline.at')).toBe('date');
    for (const field of ['message', 'killtrace.log.last_line', 'killtrace.probe.last_failure_message', 'killtrace.recommendation.text']) {
      const mapping = mappingAt(field) as estypes.MappingTextProperty;
      expect(mapping.type, field).toBe('text');
      expect(mapping.fields?.keyword?.type, field).toBe('keyword');
    }
  });

  it('is strict except for pod labels, which map to keywords', () => {
    expect(restartRecordMappings.dynamic).toBe('strict');
    expect(mappingAt('kubernetes.labels')).toMatchObject({ type: 'object', dynamic: true });
    expect(JSON.stringify(restartRecordMappings.dynamic_templates)).toContain('"path_match":"kubernetes.labels.*"');
  });
});
