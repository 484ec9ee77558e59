import { describe, expect, it } from 'vitest';
import { isLoopbackHost, parseRegistry, resolveTargets } from './index.js';

const images = [
  { ref: 'api:1.0', name: 'api', tag: '1.0' },
  { ref: 'quotes:2', name: 'quotes', tag: '2', repository: 'registry.fly.io/quotes', repositoryOrigin: 'services/quotes/image.json' },
];

describe('resolveTargets', () => {
  it('puts images under the config registry, with a manifest repository winning', () => {
    const targets = resolveTargets(images, { configRegistry: 'ghcr.io/acme' });
    expect(targets.map((t) => t.reference)).toEqual(['ghcr.io/acme/api:1.0', 'registry.fly.io/quotes:2']);
    expect(targets[0]).toMatchObject({ registry: 'ghcr.io', repository: 'acme/api', tag: '1.0' });
    expect(targets[1]).toMatchObject({ registry: 'registry.fly.io', repository: 'quotes', origin: 'services/quotes/image.json' });
  });
  it('lets --registry redirect every image, keeping a manifest repository path', () => {
    const targets = resolveTargets(images, { configRegistry: 'ghcr.io/acme', cliRegistry: '127.0.0.1:5000/test' });
    expect(targets.map((t) => t.reference)).toEqual(['127.0.0.1:5000/test/api:1.0', '127.0.0.1:5000/test/quotes:2']);
  });
  it('spells Docker Hub names out', () => {
    expect(resolveTargets([images[0]!], { configRegistry: 'docker.io' })[0]!.repository).toBe('library/api');
    expect(resolveTargets([images[0]!], { configRegistry: 'acme' })[0]!.reference).toBe('docker.io/acme/api:1.0');
  });
  it('refuses a missing registry and bad names, naming where they came from', () => {
    expect(() => resolveTargets([images[0]!], {})).toThrow(/no registry for image api:1.0/);
    expect(() => resolveTargets([images[0]!], { configRegistry: 'ghcr.io/Acme' })).toThrow(/planner.config.json registry: "Acme"/);
    expect(() => resolveTargets([{ ref: 'a:b', name: 'a', tag: '-x' }], { configRegistry: 'r.io' })).toThrow(/not a valid tag/);
  });
  it('parses hosts with ports and schemes', () => {
    expect(parseRegistry('http://localhost:5000/x', 'f')).toEqual({ host: 'localhost:5000', prefix: 'x', plainHttp: true });
    expect(parseRegistry('[::1]:5000', 'f')).toEqual({ host: '[::1]:5000', prefix: '', plainHttp: false });
  });
  it('treats only loopback addresses as loopback', () => {
    expect(['127.0.0.1:5000', '127.1.2.3', 'localhost:1', '[::1]:5000'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.1:5000', 'ghcr.io', '127.0.0.1.nip.io'].some(isLoopbackHost)).toBe(false);
  });
});
