import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Plan, PlanLayer } from '@planner/layering';
import type { ImageBuildSpec } from '@planner/oci';
import { buildAttrs, pathInfo, writeFixtureLib } from '../helpers/nix.js';

/**
 * Fixture derivations for the builder's tests: awkward file names, symlinks of every kind,
 * empty directories, executables, a hard link, and a static Go HTTP server. Built by real
 * Nix (builder /bin/sh, PATH=/usr/bin:/bin); store paths are shared by every test run.
 */
const FIXTURES = String.raw`
let lib = import ./lib.nix; in rec {
  data = lib.run "oci-fixture-data" ''
    set -e
    mkdir -p $out/share/empty-dir $out/share/nested/deeper/still
    printf 'héllo\n' > "$out/share/héllo-wörld.txt"
    printf 'nihongo\n' > "$out/share/日本語のファイル名"
    long=$(printf 'l%.0s' $(seq 1 120))
    mkdir -p "$out/share/$long"
    printf 'long\n' > "$out/share/$long/$(printf 'f%.0s' $(seq 1 130)).txt"
    printf '#!/bin/sh\necho run\n' > $out/share/run.sh
    chmod 755 $out/share/run.sh
    printf 'same bytes\n' > $out/share/a-file
    ln $out/share/a-file $out/share/hard-link-to-a-file
    ln -s a-file $out/share/relative-link
    ln -s /nonexistent/target $out/share/dangling-link
    ln -s nested $out/share/dir-link
    ln -s "$(printf 't%.0s' $(seq 1 150))" $out/share/long-target-link
    head -c 300000 /dev/zero | tr '\0' 'z' > $out/share/zeros.txt
  '' [];

  tools = lib.run "oci-fixture-tools" ''
    set -e
    mkdir -p $out/bin $out/etc
    printf '#!/bin/sh\ncat ${'$'}{data}/share/a-file\n' > $out/bin/hello
    chmod 755 $out/bin/hello
    printf 'tools\n' > $out/etc/tools.conf
  '' [ data ];

  cacert = lib.run "oci-fixture-cacert" ''
    set -e
    mkdir -p $out/etc/ssl/certs
    printf -- '-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n' > $out/etc/ssl/certs/ca-bundle.crt
  '' [];

  server = lib.run "oci-fixture-go-server" ''
    set -e
    export HOME=$TMPDIR GOCACHE=$TMPDIR/gocache GOPATH=$TMPDIR/gopath CGO_ENABLED=0 GO111MODULE=off GOFLAGS=-trimpath
    mkdir -p $out/bin $TMPDIR/src
    cat > $TMPDIR/src/main.go <<'GOSRC'
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:8080"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, err := os.Stat("/etc/ssl/certs/ca-bundle.crt")
		fmt.Fprintf(w, "hello from planner, certs=%v\n", err == nil)
	})
	if err := http.ListenAndServe(addr, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
GOSRC
    /usr/lib/go-1.19/bin/go build -ldflags=-s -o $out/bin/server $TMPDIR/src/main.go
  '' [];
}
`;

export interface Fixtures {
  dir: string;
  data: string;
  tools: string;
  cacert: string;
  server: string;
}

export function buildFixtures(dir: string): Fixtures {
  mkdirSync(dir, { recursive: true });
  writeFixtureLib(dir);
  const file = path.join(dir, 'fixtures.nix');
  writeFileSync(file, FIXTURES);
  const [data, tools, cacert, server] = buildAttrs(file, ['data', 'tools', 'cacert', 'server']);
  return { dir, data: data!, tools: tools!, cacert: cacert!, server: server! };
}

export function closureOf(roots: string[]): string[] {
  return pathInfo(roots)
    .map((p) => p.path)
    .sort();
}

export function layer(paths: string[], images: string[]): PlanLayer {
  const sorted = [...paths].sort();
  return {
    id: createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 32),
    paths: sorted,
    narSize: 0,
    images: [...images].sort(),
  };
}

/**
 * The plan the tests build: `app:1.0` (tools + cacert) and `server:1.0` (go server + cacert)
 * share the cacert layer.
 */
export function fixturePlan(f: Fixtures): { plan: Plan; images: ImageBuildSpec[] } {
  const shared = layer([f.cacert], ['app:1.0', 'server:1.0']);
  const data = layer([f.data], ['app:1.0']);
  const tools = layer([f.tools], ['app:1.0']);
  const server = layer([f.server], ['server:1.0']);
  const plan: Plan = {
    maxLayers: 10,
    storeDir: '/nix/store',
    layers: [shared, data, tools, server],
    images: [
      { name: 'app:1.0', layers: [shared.id, data.id, tools.id] },
      { name: 'server:1.0', layers: [shared.id, server.id] },
    ],
  };
  const images: ImageBuildSpec[] = [
    { ref: 'app:1.0', contents: [f.tools, f.cacert], config: { Cmd: ['/bin/hello'], Env: ['A=1'], Labels: { b: '2', a: '1' } } },
    {
      ref: 'server:1.0',
      contents: [f.server, f.cacert],
      config: { Entrypoint: ['/bin/server'], ExposedPorts: { '8080/tcp': {} }, Env: ['PATH=/bin'], WorkingDir: '/', User: '0:0' },
    },
  ];
  return { plan, images };
}

export function sh(cmd: string, args: string[], options: { cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28, ...options });
}
