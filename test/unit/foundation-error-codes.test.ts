import { configErrorCodes } from '@killtrace/config';
import { elasticErrorCodes } from '@killtrace/elastic';
import { kafkaErrorCodes } from '@killtrace/kafka';
import { kibanaErrorCodes } from '@killtrace/kibana';
import { describe, expect, it } from 'vitest';

// Operators and alert rules match on these codes: each must be unique, well-formed and described.
const catalogues: Record<string, Record<string, string>> = {
  CONFIG: configErrorCodes,
  KAFKA: kafkaErrorCodes,
  ELASTIC: elasticErrorCodes,
  KIBANA: kibanaErrorCodes,
};

describe('foundation error codes', () => {
  it('are KT_ERR_<AREA>_<WHAT>, unique and described', () => {
    const seen = new Set<string>();
    for (const [area, catalogue] of Object.entries(catalogues)) {
      for (const [code, description] of Object.entries(catalogue)) {
        expect(code).toMatch(new RegExp(`^KT_ERR_${area}_[A-Z][A-Z0-9_]*$`));
        expect(description.length, code).toBeGreaterThan(5);
        expect(seen.has(code), code).toBe(false);
        seen.add(code);
      }
    }
  });
});
