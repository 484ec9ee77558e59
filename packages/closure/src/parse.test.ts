import { describe, expect, it } from 'vitest';
import { PlannerError } from '@planner/errors';
import { findCycle, parseClosure, reachable } from './index.js';

const S = '/nix/store';
const A = `${S}/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-app-1.0`;
const B = `${S}/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-libfoo-2.1`;
const C = `${S}/cccccccccccccccccccccccccccccccc-glibc-2.38`;
const H = 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
const opts = { storeDir: S, file: 'closure.json' };

const expected = new Map([
  [A, { path: A, narHash: H, narSize: 100, references: [B, C] }],
  [B, { path: B, narHash: H, narSize: 20, references: [C] }],
  [C, { path: C, narHash: H, narSize: 3, references: [] }],
]);

describe('parseClosure accepts every shape in the wild', () => {
  it('the array of nix path-info --json --recursive (Nix <= 2.18), dropping self-references', () => {
    const value = [
      { path: A, narHash: H, narSize: 100, references: [A, C, B], valid: true },
      { path: B, narHash: H, narSize: 20, references: [C] },
      { path: C, narHash: H, narSize: 3, references: [C] },
    ];
    const r = parseClosure(value, opts);
    expect(r.shape).toBe('path-info-array');
    expect(r.closure).toEqual(expected);
  });

  it('the object keyed by store path (Nix >= 2.19)', () => {
    const value = {
      [C]: { narHash: H, narSize: 3, references: [] },
      [A]: { narHash: H, narSize: 100, references: [B, C], deriver: null, registrationTime: 1 },
      [B]: { narHash: H, narSize: 20, references: [C] },
    };
    const r = parseClosure(value, opts);
    expect(r.shape).toBe('path-info-object');
    expect(r.closure).toEqual(expected);
  });

  it('store-object-info v2 with version/storeDir and paths without the store prefix', () => {
    const base = (p: string) => p.slice(S.length + 1);
    const value = {
      version: 2,
      storeDir: S,
      info: {
        [base(A)]: { version: 2, narHash: { algorithm: 'sha256', format: 'base64', hash: H.slice(7) }, narSize: 100, references: [base(B), base(C)] },
        // The same hash in base16 and in SRI form: every form normalises to one narHash.
        [base(B)]: { version: 2, narHash: { algorithm: 'sha256', format: 'base16', hash: Buffer.from(H.slice(7), 'base64').toString('hex') }, narSize: 20, references: [base(C)] },
        [base(C)]: { version: 2, narHash: { algorithm: 'sha256', format: 'sri', hash: H }, narSize: 3, references: [] },
      },
    };
    const r = parseClosure(value, opts);
    expect(r.shape).toBe('store-object-info-v2');
    expect(r.closure).toEqual(expected);
  });

  it('v2 objects keyed by base name without a wrapper', () => {
    const base = (p: string) => p.slice(S.length + 1);
    const value = {
      [base(A)]: { version: 2, narHash: H, narSize: 100, references: [base(B), base(C)] },
      [base(B)]: { version: 2, narHash: H, narSize: 20, references: [base(C)] },
      [base(C)]: { version: 2, narHash: H, narSize: 3, references: [] },
    };
    expect(parseClosure(value, opts).closure).toEqual(expected);
  });

  it('exportReferencesGraph JSON (structured attrs)', () => {
    const value = {
      closure: [
        { path: A, narHash: H, narSize: 100, references: [B, C], closureSize: 123, valid: true },
        { path: B, narHash: H, narSize: 20, references: [C], closureSize: 23, valid: true },
        { path: C, narHash: H, narSize: 3, references: [], closureSize: 3, valid: true },
      ],
    };
    const r = parseClosure(value, opts);
    expect(r.shape).toBe('export-references-graph');
    expect(r.closure).toEqual(expected);
  });

  it('a path listed twice with the same data is accepted once', () => {
    const value = [
      { path: C, narHash: H, narSize: 3, references: [] },
      { path: C, narHash: H, narSize: 3, references: [] },
    ];
    expect(parseClosure(value, opts).closure.size).toBe(1);
  });
});

describe('parseClosure rejects bad input with stable codes', () => {
  const code = (value: unknown): string => {
    try {
      parseClosure(value, opts);
    } catch (error) {
      expect(error).toBeInstanceOf(PlannerError);
      expect((error as PlannerError).message).toContain('closure.json');
      return (error as PlannerError).code;
    }
    throw new Error('no error');
  };
  const entry = (over: Record<string, unknown>) => [{ path: C, narHash: H, narSize: 3, references: [], ...over }];
  it.each([
    ['a path outside the store', entry({ path: '/usr/lib/cccccccccccccccccccccccccccccccc-x' }), 'E_STORE_PATH'],
    ['a path with ..', entry({ path: `${S}/../etc/passwd` }), 'E_STORE_PATH'],
    ['an invalid hash part', entry({ path: `${S}/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x` }), 'E_STORE_PATH'],
    ['an invalid name', entry({ path: `${S}/cccccccccccccccccccccccccccccccc-a b` }), 'E_STORE_PATH'],
    ['a nested path', entry({ path: `${S}/cccccccccccccccccccccccccccccccc-x/bin` }), 'E_STORE_PATH'],
    ['a negative size', entry({ narSize: -1 }), 'E_BAD_SIZE'],
    ['a fractional size', entry({ narSize: 1.5 }), 'E_BAD_SIZE'],
    ['a string size', entry({ narSize: '3' }), 'E_BAD_SIZE'],
    ['a missing reference', entry({ references: [B] }), 'E_MISSING_REFERENCE'],
    ['references not a list', entry({ references: 'x' }), 'E_CLOSURE_SHAPE'],
    ['no narHash', entry({ narHash: undefined }), 'E_CLOSURE_SHAPE'],
    ['a number', 42, 'E_CLOSURE_SHAPE'],
    ['an entry without path', [{ narSize: 1 }], 'E_CLOSURE_SHAPE'],
    ['an image manifest by mistake', { name: 'x', tag: '1' }, 'E_CLOSURE_SHAPE'],
    ['an object whose values are not path infos', { version: 1, paths: [] }, 'E_CLOSURE_SHAPE'],
    ['a path-keyed object with a string info', { [C]: 'x' }, 'E_CLOSURE_SHAPE'],
  ])('%s', (_name, value, expectedCode) => {
    expect(code(value)).toBe(expectedCode);
  });

  it('conflicting sizes or hashes for one path', () => {
    expect(code([...entry({}), ...entry({ narSize: 4 })])).toBe('E_SIZE_CONFLICT');
    expect(code([...entry({}), ...entry({ narHash: 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' })])).toBe('E_SIZE_CONFLICT');
  });

  it('a reference cycle, naming it', () => {
    const value = [
      { path: A, narHash: H, narSize: 1, references: [B] },
      { path: B, narHash: H, narSize: 1, references: [C] },
      { path: C, narHash: H, narSize: 1, references: [A] },
    ];
    expect(code(value)).toBe('E_CYCLE');
    try {
      parseClosure(value, opts);
    } catch (error) {
      expect((error as PlannerError).message).toContain(`${A} -> ${B} -> ${C} -> ${A}`);
    }
  });
});

describe('graph helpers', () => {
  it('findCycle is undefined on a DAG and reachable follows references', () => {
    expect(findCycle(expected)).toBeUndefined();
    expect([...reachable(expected, [B]).keys()].sort()).toEqual([B, C]);
  });
});
