# A few helpers in place of nixpkgs' stdenv: this machine has no nixpkgs and no binary
# cache, so every package is a plain `builtins.derivation` run by the host's /bin/sh with
# the host's Debian tools on PATH (the Nix sandbox is off). What they build still goes
# through Nix: store paths, references found by Nix's scanner, closures.
{ system }:

rec {
  # `run name script env`: a derivation whose builder runs `script` with `sh -eu`.
  # `env` becomes environment variables; store paths in it (other derivations, sources)
  # become inputs of the build, exactly as with stdenv.mkDerivation.
  run = name: script: env:
    derivation ({
      inherit name system;
      builder = "/bin/sh";
      args = [ "-euc" script ];
      PATH = "/usr/bin:/bin";
    } // env);

  # Import a source directory under a stable name. Going through builtins.path (rather
  # than interpolating ./dir) copies just that directory, so the store path depends on
  # its content only: the same in `nix build -f default.nix` and in the flake, and it
  # changes exactly when the service's source changes.
  source = name: path: builtins.path { inherit path; name = "${name}-src"; };

  # Where `go build` keeps its cache between derivations. The sandbox is off, so builds
  # can share it; it only makes rebuilds faster, outputs do not depend on it.
  goCache = "/tmp/planner-x-gocache";

  # A Go program, standard library only, statically linked (CGO_ENABLED=0). `vars` are
  # `-X main.<name>=<value>` link-time strings; a store path given there ends up in the
  # binary, so Nix records it as a runtime dependency (that is how geodb gets into the
  # closures of the two services that read it).
  goProgram = { name, src, vars ? { } }:
    run name ''
      export HOME="$TMPDIR" GOPATH="$TMPDIR/go" GOCACHE="${goCache}"
      export CGO_ENABLED=0 GO111MODULE=off GOOS=linux GOARCH=amd64
      mkdir -p "$out/bin" "$GOCACHE"
      cd "$src"
      go build -trimpath -buildvcs=false -ldflags "-s -w $ldflags" -o "$out/bin/${name}" ./*.go
    '' {
      inherit src;
      ldflags = builtins.concatStringsSep " "
        (map (k: "-X main.${k}=${vars.${k}}") (builtins.attrNames vars));
    };

  # A C program compiled with the host's gcc against libraries in the store. The
  # dynamic linker and the RPATH are store paths, so the program runs in an image that
  # holds nothing but its closure, and Nix sees glibc (and `libs`) as references.
  # DT_RPATH rather than RUNPATH: the host's libraries carry no search path of their
  # own, and RPATH also applies to their dependencies (libssl -> libcrypto).
  cProgram = { name, src, glibc, libs ? [ ], ldlibs ? "" }:
    let rpath = builtins.concatStringsSep ":" (map (l: "${l}/lib") (libs ++ [ glibc ]));
    in run name ''
      mkdir -p "$out/bin"
      gcc -O2 -Wall -o "$out/bin/${name}" "$src"/*.c \
        ${builtins.concatStringsSep " " (map (l: "-L${l}/lib") libs)} ${ldlibs} \
        -Wl,--dynamic-linker=${glibc}/lib/ld-linux-x86-64.so.2 \
        -Wl,--disable-new-dtags -Wl,-rpath,${rpath}
    '' { inherit src; };

  # A script installed as bin/<name> with a store-path shebang line (`#!<interpreter>`)
  # and, when `path` is given, `export PATH=<path>` first, so it needs nothing from the
  # image but its closure.
  script = { name, interpreter, file, path ? null }:
    run name ''
      mkdir -p "$out/bin"
      {
        echo "#!${interpreter}"
        ${if path == null then "" else ''echo "export PATH=${path}"''}
        cat "$file"
      } > "$out/bin/${name}"
      chmod 0555 "$out/bin/${name}"
    '' { inherit file; };
}
