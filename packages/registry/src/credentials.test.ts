import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { authFilePaths, findCredentials, loadCredentialSources, normaliseAuthKey, parseCredsFlag, type AuthFile } from './index.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const file = (p: string, auths: AuthFile['auths']): AuthFile => ({ path: p, auths });

describe('credentials', () => {
  it('takes --creds first, then the environment, then auth files in order', () => {
    const files = [file('/a/auth.json', { 'ghcr.io': { auth: b64('fromauth:p1') } }), file('/h/.docker/config.json', { 'ghcr.io': { auth: b64('fromdocker:p2') } })];
    const env = { PLANNER_REGISTRY_USER: 'envuser', PLANNER_REGISTRY_PASSWORD: 'envpass' };
    expect(findCredentials({ creds: 'cli:pass:with:colons', env, authFiles: files }, 'ghcr.io', 'acme/api')).toEqual({ username: 'cli', password: 'pass:with:colons', source: '--creds' });
    expect(findCredentials({ env, authFiles: files }, 'ghcr.io', 'acme/api')).toEqual({ username: 'envuser', password: 'envpass', source: '$PLANNER_REGISTRY_USER' });
    expect(findCredentials({ env: {}, authFiles: files }, 'ghcr.io', 'acme/api')?.source).toBe('/a/auth.json');
    expect(findCredentials({ env: {}, authFiles: files.slice(1) }, 'ghcr.io', 'acme/api')?.username).toBe('fromdocker');
    expect(findCredentials({ env: {}, authFiles: files }, 'quay.io', 'acme/api')).toBeUndefined();
  });
  it('matches the most specific auth.json key and Docker Hub aliases', () => {
    const f = file('/a', {
      'quay.io': { auth: b64('host:1') },
      'quay.io/acme': { auth: b64('org:2') },
      'quay.io/acme/api': { auth: b64('repo:3') },
      'https://index.docker.io/v1/': { auth: b64('hub:4') },
    });
    const find = (reg: string, repo: string) => findCredentials({ env: {}, authFiles: [f] }, reg, repo)?.username;
    expect(find('quay.io', 'acme/api')).toBe('repo');
    expect(find('quay.io', 'acme/web')).toBe('org');
    expect(find('quay.io', 'other/x')).toBe('host');
    expect(find('quay.io', 'acmex/y')).toBe('host');
    expect(find('docker.io', 'library/x')).toBe('hub');
    expect(normaliseAuthKey('https://registry-1.docker.io/v2/')).toBe('docker.io');
  });
  it('takes the first auth file with any matching key, even when a later one is more specific', () => {
    const files = [file('/a', { 'quay.io': { auth: b64('host:1') } }), file('/b', { 'quay.io/acme/api': { auth: b64('repo:2') } })];
    expect(findCredentials({ env: {}, authFiles: files }, 'quay.io', 'acme/api')).toEqual({ username: 'host', password: '1', source: '/a' });
  });
  it('never puts the password in an error', () => {
    expect(() => parseCredsFlag('nocolon-s3cret')).toThrow(/USER:PASSWORD/);
    try {
      parseCredsFlag('nocolon-s3cret');
    } catch (error) {
      expect(JSON.stringify(error) + String(error)).not.toContain('s3cret');
    }
  });
  it('finds auth files from REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR and DOCKER_CONFIG', async () => {
    expect(authFilePaths({ XDG_RUNTIME_DIR: '/run/user/1' }, '/home/u')).toEqual(['/run/user/1/containers/auth.json', '/home/u/.docker/config.json']);
    expect(authFilePaths({ REGISTRY_AUTH_FILE: '/x.json', XDG_RUNTIME_DIR: '/r', DOCKER_CONFIG: '/d' }, '/h')).toEqual(['/x.json', '/d/config.json']);
    const dir = mkdtempSync(path.join(tmpdir(), 'creds-'));
    mkdirSync(path.join(dir, '.docker'));
    writeFileSync(path.join(dir, '.docker/config.json'), JSON.stringify({ auths: { 'r.io': { auth: b64('u:secret-pw') } }, credsStore: 'desktop' }));
    const sources = await loadCredentialSources({ env: {}, home: dir });
    expect(findCredentials(sources, 'r.io', 'a')).toEqual({ username: 'u', password: 'secret-pw', source: path.join(dir, '.docker/config.json') });
    writeFileSync(path.join(dir, 'bad.json'), '{"auths": {"r.io": {"auth": "secret-pw"');
    await expect(loadCredentialSources({ env: { REGISTRY_AUTH_FILE: path.join(dir, 'bad.json') }, home: dir })).rejects.toThrow(/not valid JSON/);
    await loadCredentialSources({ env: { REGISTRY_AUTH_FILE: path.join(dir, 'bad.json') }, home: dir }).catch((error: Error) => expect(error.message).not.toContain('secret-pw'));
  });
});
