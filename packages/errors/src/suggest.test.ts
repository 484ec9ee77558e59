import { describe, expect, it } from 'vitest';
import { choicesHint, closestMatch } from './index.js';

describe('closestMatch', () => {
  it('finds a typo, without regard to case', () => {
    expect(closestMatch('contnets', ['name', 'tag', 'contents'])).toBe('contents');
    expect(closestMatch('cmd', ['Cmd', 'Env'])).toBe('Cmd');
    expect(closestMatch('max-layer', ['max-layers', 'json'])).toBe('max-layers');
  });

  it('suggests nothing far off, or from nothing', () => {
    expect(closestMatch('cmd', ['name', 'contents'])).toBeUndefined();
    expect(closestMatch('xyzzy', ['maxLayers', 'services'])).toBeUndefined();
    expect(closestMatch('x', [])).toBeUndefined();
  });
});

describe('choicesHint', () => {
  it('names the likely one, else a few of the choices and how many there are', () => {
    const refs = Array.from({ length: 120 }, (_, i) => `svc${String(i).padStart(3, '0')}:latest`);
    expect(choicesHint('svc01:latest', refs, 'planner ls lists them')).toBe('did you mean svc001:latest? (planner ls lists them)');
    const many = choicesHint('web', refs, 'planner ls lists them');
    expect(many).toBe('one of: svc000:latest, svc001:latest, svc002:latest, svc003:latest, svc004:latest, svc005:latest, svc006:latest, svc007:latest, ... (120 in all; planner ls lists them)');
    expect(choicesHint('web', ['a:latest', 'b:latest'], 'x')).toBe('one of: a:latest, b:latest');
  });
});
