# Runtime packages copied from the host's Debian packages into store paths. With nixpkgs
# these would be `pkgs.glibc`, `pkgs.openssl.out`, `pkgs.cacert`, `pkgs.tzdata`,
# `pkgs.busybox`, `pkgs.python311`; here they are rebuilt from what this machine has so
# that the example needs no network and no binary cache.
#
# Note: the host files are read by the builders, not tracked by Nix as inputs, so an
# upgrade of a Debian package does not change these store paths (delete them with
# `nix store delete` to pick it up). The Debian package each one comes from is named.
{ lib }:

let
  inherit (lib) run;
  hostLib = "/usr/lib/x86_64-linux-gnu";
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
  '' { };

  # zlib1g and libexpat1: libpython3.11 needs them.
  zlib = run "zlib" ''
    mkdir -p "$out/lib"
    cp -L "${hostLib}/libz.so.1" "$out/lib/"
  '' { };

  expat = run "expat" ''
    mkdir -p "$out/lib"
    cp -L "${hostLib}/libexpat.so.1" "$out/lib/"
  '' { };

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

  # python3.11: libpython3.11 (the shared runtime) and the standard library of
  # libpython3.11-minimal + libpython3.11-stdlib.
  # Debian's /usr/bin/python3.11 has /lib64/ld-linux-x86-64.so.2 as its interpreter, which
  # an image of store paths does not have, and this machine has no patchelf; so instead of
  # copying it we link a three-line launcher (Py_BytesMain) against libpython3.11.so with
  # the store's dynamic linker and an RPATH (DT_RPATH, which also applies to the libraries
  # and extension modules loaded after it: _ssl needs libssl, pyexpat libexpat).
  # The standard library is copied without tests, IDLE/tk, bytecode caches and the 25 MB
  # static library; Python finds it next to its executable (lib/python3.11/os.py).
  python3 = run "python3" ''
    mkdir -p "$out/bin" "$out/lib"
    cp -L "${hostLib}/libpython3.11.so.1.0" "$out/lib/"
    ln -s libpython3.11.so.1.0 "$out/lib/libpython3.11.so"
    cp -R /usr/lib/python3.11 "$out/lib/python3.11"
    cd "$out/lib/python3.11"
    rm -rf config-3.11-x86_64-linux-gnu test idlelib tkinter turtledemo ensurepip \
      lib2to3 pydoc_data distutils sitecustomize.py EXTERNALLY-MANAGED \
      lib-dynload/_test* lib-dynload/xx* lib-dynload/_ctypes_test* lib-dynload/_xxtestfuzz*
    find . -name __pycache__ -prune -exec rm -rf {} +
    printf 'int Py_BytesMain(int argc, char **argv);\nint main(int argc, char **argv) { return Py_BytesMain(argc, argv); }\n' > "$TMPDIR/main.c"
    gcc -O2 -o "$out/bin/python3.11" "$TMPDIR/main.c" -L"$out/lib" -lpython3.11 \
      -Wl,--dynamic-linker=${glibc}/lib/ld-linux-x86-64.so.2 \
      -Wl,--disable-new-dtags \
      -Wl,-rpath,$out/lib:${openssl}/lib:${zlib}/lib:${expat}/lib:${glibc}/lib
    ln -s python3.11 "$out/bin/python3"
  '' { };
}
