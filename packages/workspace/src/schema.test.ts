import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { configSchemaPath, manifestSchemaPath } from './schema.js';

// At run time the schemas are compiled without checking them against JSON Schema's
// meta-schema (it costs a no-op build about 60 ms); this is where they are checked.
describe('shipped schemas', () => {
  it.each([
    ['planner.config.schema.json', configSchemaPath],
    ['image.schema.json', manifestSchemaPath],
  ])('%s is a valid draft-07 schema under strict mode', (_name, file) => {
    const schema = JSON.parse(readFileSync(file, 'utf8')) as object;
    const ajv = new Ajv({ strict: true, allErrors: true });
    expect(ajv.validateSchema(schema), ajv.errorsText()).toBe(true);
    expect(() => ajv.compile(schema)).not.toThrow();
  });
});
