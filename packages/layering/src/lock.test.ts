import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import lockSchema from '../schemas/planner.lock.schema.json' with { type: 'json' };

// parseLock compiles the schema without checking it against JSON Schema's meta-schema
// (run time pays for that on every command); this is where it is checked.
describe('planner.lock.schema.json', () => {
  it('is a valid draft-07 schema under strict mode', () => {
    const ajv = new Ajv({ strict: true, allErrors: true });
    expect(ajv.validateSchema(lockSchema), ajv.errorsText()).toBe(true);
    expect(() => ajv.compile(lockSchema)).not.toThrow();
  });
});
