# Python 3.11 the way a nixpkgs closure looks: the interpreter in one store path, its
# standard library split into one store path per top-level module or package
# (`python3.11-email`, `python3.11-json`, ...), native libraries in their own paths, and a
# `python3.11-env` (what `python3.withPackages` makes with buildEnv) that joins the
# modules a program asks for into one lib/python3.11 of symlinks.
#
#   env = python3.withModules (ps: [ ps.json ps.zoneinfo ]);
#   # "${env}/bin/python3.11" can import json, zoneinfo, and everything Debian's
#   # libpython3.11-minimal ships (os, re, hashlib, ssl, logging, ...).
#
# The split and the import graph come from nix/python/stdlib.json, written by
# nix/python/gen-stdlib.py from the host's /usr/lib/python3.11 (Nix needs every path's
# dependencies at evaluation time, before anything is built). Everything is copied from
# Debian's libpython3.11, libpython3.11-minimal and libpython3.11-stdlib.
{ lib, host }:

let
  inherit (lib) run;
  inherit (host) glibc openssl zlib expat bzip2 xz sqlite libffi libuuid libxcrypt db ncurses readline;
  hostLib = "/usr/lib/x86_64-linux-gnu";
  stdlib = builtins.fromJSON (builtins.readFile ./python/stdlib.json);
  extSuffix = ".cpython-311-x86_64-linux-gnu.so";

  # Extension modules that load a shared library beyond glibc, and which. nixpkgs gives
  # such a module a RUNPATH naming those libraries' store paths; see `module` below.
  nativeLibs = {
    _ssl = [ openssl ];
    _hashlib = [ openssl ];
    _bz2 = [ bzip2 ];
    _lzma = [ xz ];
    _sqlite3 = [ sqlite ];
    _ctypes = [ libffi ];
    _uuid = [ libuuid ];
    _crypt = [ libxcrypt ];
    _dbm = [ db ];
    _curses = [ ncurses ];
    _curses_panel = [ ncurses ];
    readline = [ readline ncurses ];
  };

  # The interpreter: a store copy of libpython3.11.so and a three-line launcher
  # (Py_BytesMain) linked against it with the store's dynamic linker and a DT_RPATH of
  # store paths. Debian's /usr/bin/python3.11 asks for /lib64/ld-linux-x86-64.so.2, which
  # an image of store paths does not have, and this machine has no patchelf. On its own it
  # has no standard library: programs run it through a `python3.11-env`.
  interpreter = run "python3.11" ''
    mkdir -p "$out/bin" "$out/lib"
    cp -L "${hostLib}/libpython3.11.so.1.0" "$out/lib/"
    ln -s libpython3.11.so.1.0 "$out/lib/libpython3.11.so"
    printf 'int Py_BytesMain(int argc, char **argv);\nint main(int argc, char **argv) { return Py_BytesMain(argc, argv); }\n' > "$TMPDIR/main.c"
    gcc -O2 -o "$out/bin/python3.11" "$TMPDIR/main.c" -L"$out/lib" -lpython3.11 \
      -Wl,--dynamic-linker=${glibc}/lib/ld-linux-x86-64.so.2 \
      -Wl,--disable-new-dtags \
      -Wl,-rpath,$out/lib:${zlib}/lib:${expat}/lib:${glibc}/lib
  '' { };

  # One group of the standard library: its .py files and extension modules under
  # lib/python3.11, and the groups it imports as references (through
  # nix-support/propagated-build-inputs, as nixpkgs' Python packages do).
  #
  # An extension module that needs a native library gets the nixpkgs treatment without
  # patchelf: Debian's module moves to lib/python3.11-ext/, and lib-dynload/ gets a shim
  # with the same name, linked with DT_NEEDED on the library and on the moved module and a
  # DT_RPATH naming the library's store path. Python's dlopen() of the shim loads both, and
  # dlsym() finds PyInit_<name> among the shim's dependencies.
  module = name: group:
    let
      deps = map (d: modules.${d}) group.deps;
      shim = ext:
        let
          libs = nativeLibs.${ext};
          file = "${ext}${extSuffix}";
        in ''
          mkdir -p "$out/lib/python3.11-ext"
          cp "$dynload/${file}" "$out/lib/python3.11-ext/${file}"
          gcc -shared -o "$out/lib/python3.11/lib-dynload/${file}" -x c /dev/null -x none \
            -Wl,--no-as-needed \
            ${toString (map (l: "-L${l}/lib " + toString (map (so: "-l:${so}") l.libs)) libs)} \
            "$out/lib/python3.11-ext/${file}" \
            -Wl,--disable-new-dtags -Wl,-rpath,${builtins.concatStringsSep ":" (map (l: "${l}/lib") libs)}
        '';
      copyExt = ext:
        if nativeLibs ? ${ext} then shim ext
        else ''cp "$dynload/${ext}${extSuffix}" "$out/lib/python3.11/lib-dynload/"'';
    in
    run "python3.11-${name}" ''
      dynload=/usr/lib/python3.11/lib-dynload
      mkdir -p "$out/lib/python3.11/lib-dynload"
      cd /usr/lib/python3.11
      if [ -n "$files" ]; then
        cp --parents $files "$out/lib/python3.11/"
        # Bytecode next to the sources, as nixpkgs ships it. unchecked-hash: the store's
        # mtime of 1 would make timestamp-checked .pyc files stale. Compiled by this
        # interpreter, with the host's standard library for compileall itself.
        PYTHONHOME=/usr ${interpreter}/bin/python3.11 -S -m compileall -q \
          --invalidation-mode unchecked-hash "$out/lib/python3.11" > /dev/null
      fi
      ${builtins.concatStringsSep "\n" (map copyExt group.ext)}
      rmdir "$out/lib/python3.11/lib-dynload" 2>/dev/null || true
      if [ -n "$deps" ]; then
        mkdir -p "$out/nix-support"
        printf '%s\n' $deps > "$out/nix-support/propagated-build-inputs"
      fi
    '' {
      files = toString group.files;
      deps = toString deps;
    } // { pythonModule = name; };

  modules = builtins.mapAttrs module stdlib.groups;

  # The groups `roots` need, transitively, plus Debian's minimal set.
  closureOf = roots:
    map (e: modules.${e.key}) (builtins.genericClosure {
      startSet = map (n: { key = n; }) (stdlib.minimal ++ roots);
      operator = e: map (d: { key = d; }) stdlib.groups.${e.key}.deps;
    });

  # python3.withModules (ps: [ ps.json ]): like nixpkgs' python3.withPackages, a buildEnv
  # of the interpreter and the modules. bin/python3.11 is a copy of the launcher, not a
  # symlink: Python finds its standard library by searching up from the executable for
  # lib/python3.11/os.py, so the launcher has to sit in the env. Directories are real,
  # files are symlinks into the module store paths, which makes them the env's references.
  withModules = pick:
    let mods = closureOf (map (m: m.pythonModule) (pick modules));
    in run "python3.11-env" ''
      mkdir -p "$out/bin" "$out/lib/python3.11/lib-dynload"
      cp ${interpreter}/bin/python3.11 "$out/bin/python3.11"
      ln -s python3.11 "$out/bin/python3"
      for m in $modules; do
        cp -rs --no-preserve=mode "$m/lib/python3.11/." "$out/lib/python3.11/"
      done
    '' { modules = toString mods; };
in
interpreter // {
  inherit modules withModules;
  # Every module path's name: `nix eval -f default.nix python3.moduleNames`.
  moduleNames = builtins.attrNames stdlib.groups;
}
