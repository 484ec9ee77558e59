# Runtime packages copied from the host's Debian packages into store paths. With nixpkgs
# these would be `pkgs.glibc`, `pkgs.openssl.out`, `pkgs.cacert`, `pkgs.tzdata`,
# `pkgs.busybox`, `pkgs.sqlite`, ...; here they are rebuilt from what this machine has so
# that the example needs no network and no binary cache.
#
# Note: the host files are read by the builders, not tracked by Nix as inputs, so an
# upgrade of a Debian package does not change these store paths (delete them with
# `nix store delete` to pick it up). The Debian package each one comes from is named.
{ lib }:

let
  inherit (lib) run;
  hostLib = "/usr/lib/x86_64-linux-gnu";

  # Shared libraries of Debian packages, one store path per library package as in
  # nixpkgs (`pkgs.zlib`, `pkgs.sqlite.out`, ...). `deps` become references through
  # nix-support/propagated-build-inputs, the file nixpkgs' setup hooks write; `libs`
  # (the sonames) is kept on the derivation for the programs that link against them.
  sharedLib = name: { libs, deps ? [ ] }:
    run name ''
      mkdir -p "$out/lib"
      for f in ${toString libs}; do cp -L "${hostLib}/$f" "$out/lib/$f"; done
      if [ -n "$deps" ]; then
        mkdir -p "$out/nix-support"
        printf '%s\n' $deps > "$out/nix-support/propagated-build-inputs"
      fi
    '' { deps = toString deps; } // { inherit libs; };
in
rec {
  # libc6: the dynamic linker and the glibc libraries the example's programs load.
  glibc = run "glibc" ''
    mkdir -p "$out/lib"
    for f in ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 \
             librt.so.1 libresolv.so.2 libnss_files.so.2 libnss_dns.so.2; do
      cp -L "${hostLib}/$f" "$out/lib/$f"
    done
  '' { };

  # libssl3 (runtime) + libssl-dev (headers, used at compile time from /usr/include).
  # The unversioned .so links are what `-lssl -lcrypto` look for when linking.
  openssl = run "openssl" ''
    mkdir -p "$out/lib"
    cp -L "${hostLib}/libssl.so.3" "${hostLib}/libcrypto.so.3" "$out/lib/"
    ln -s libssl.so.3 "$out/lib/libssl.so"
    ln -s libcrypto.so.3 "$out/lib/libcrypto.so"
  '' { } // { libs = [ "libssl.so.3" "libcrypto.so.3" ]; };

  # zlib1g and libexpat1: libpython3.11 itself needs them (zlib and pyexpat are built in).
  zlib = sharedLib "zlib" { libs = [ "libz.so.1" ]; };
  expat = sharedLib "expat" { libs = [ "libexpat.so.1" ]; };

  # What Python's extension modules load (all dependencies of Debian's
  # libpython3.11-stdlib): _bz2, _lzma, _sqlite3, _ctypes, _uuid, _curses, readline, _dbm,
  # _crypt. Only the ones a service's modules import end up in its closure.
  bzip2 = sharedLib "bzip2" { libs = [ "libbz2.so.1.0" ]; };              # libbz2-1.0
  xz = sharedLib "xz" { libs = [ "liblzma.so.5" ]; };                     # liblzma5
  sqlite = sharedLib "sqlite" { libs = [ "libsqlite3.so.0" ]; };          # libsqlite3-0
  libffi = sharedLib "libffi" { libs = [ "libffi.so.8" ]; };              # libffi8
  libuuid = sharedLib "libuuid" { libs = [ "libuuid.so.1" ]; };           # libuuid1
  libxcrypt = sharedLib "libxcrypt" { libs = [ "libcrypt.so.1" ]; };      # libcrypt1
  db = sharedLib "db" { libs = [ "libdb-5.3.so" ]; };                      # libdb5.3
  ncurses = sharedLib "ncurses" {                                          # libncursesw6, libtinfo6
    libs = [ "libncursesw.so.6" "libtinfo.so.6" "libpanelw.so.6" ];
  };
  readline = sharedLib "readline" { libs = [ "libreadline.so.8" ]; deps = [ ncurses ]; }; # libreadline8

  # ca-certificates: same layout as nixpkgs' cacert, so SSL_CERT_FILE and Go's default
  # lookup (/etc/ssl/certs/ca-certificates.crt) both work once linked into the image root.
  cacert = run "cacert" ''
    mkdir -p "$out/etc/ssl/certs"
    cp -L /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-bundle.crt"
    ln -s ca-bundle.crt "$out/etc/ssl/certs/ca-certificates.crt"
  '' { };

  # tzdata: share/zoneinfo like nixpkgs' tzdata. `localtime` points at /etc on Debian.
  tzdata = run "tzdata" ''
    mkdir -p "$out/share"
    cp -R /usr/share/zoneinfo "$out/share/zoneinfo"
    rm -f "$out/share/zoneinfo/localtime"
  '' { };

  # busybox-static: one static binary plus a link per applet, so `bin/` can go on PATH.
  busybox = run "busybox" ''
    mkdir -p "$out/bin"
    cp /bin/busybox "$out/bin/busybox"
    for applet in $("$out/bin/busybox" --list); do
      [ "$applet" = busybox ] || ln -s busybox "$out/bin/$applet"
    done
  '' { };
}
