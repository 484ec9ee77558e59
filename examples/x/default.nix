# The x monorepo: one attribute per service, plus the shared runtime packages the
# services' images are made of. Build one with `nix-build -A quotes` or
# `nix build -f default.nix quotes`; the manifests in services/*/image.json name them as
# `../../default.nix#<attribute>`. flake.nix exposes the same attributes.
{ system ? builtins.currentSystem }:

let
  lib = import ./nix/lib.nix { inherit system; };
  host = import ./nix/host.nix { inherit lib; };
  inherit (lib) source goProgram cProgram script;
  inherit (host) glibc openssl busybox;

  # The interpreter; python3.withModules (ps: [ ... ]) makes a `python3.11-env` with
  # those standard-library modules (and Debian's minimal set), one store path each.
  python3 = import ./nix/python.nix { inherit lib host; };

  # Build-time only: writes the geo database, and is not referenced by it.
  geodb-gen = goProgram { name = "geodb-gen"; src = source "geodb-gen" ./cmd/geodb-gen; };
in
host // rec {
  inherit python3;

  # ---- shared data -------------------------------------------------------------------

  # ~32 MiB "geo database", generated deterministically; read by geoip and atlas only.
  geodb = lib.run "geodb" ''
    mkdir -p "$out/share/geodb"
    ${geodb-gen}/bin/geodb-gen "$out/share/geodb/cities.geodb"
  '' { };

  # ---- Go services (static, CGO_ENABLED=0) ---------------------------------------------

  quotes = goProgram { name = "quotes"; src = source "quotes" ./cmd/quotes; };

  geoip = goProgram {
    name = "geoip";
    src = source "geoip" ./cmd/geoip;
    vars.dbPath = "${geodb}/share/geodb/cities.geodb";
  };

  atlas = goProgram {
    name = "atlas";
    src = source "atlas" ./cmd/atlas;
    vars.dbPath = "${geodb}/share/geodb/cities.geodb";
  };

  clock = goProgram { name = "clock"; src = source "clock" ./cmd/clock; };

  relay = goProgram { name = "relay"; src = source "relay" ./cmd/relay; };

  gateway = goProgram { name = "gateway"; src = source "gateway" ./cmd/gateway; };

  # ---- C services (glibc + OpenSSL from the store) ---------------------------------------

  digest = cProgram {
    name = "digest";
    src = source "digest" ./cmd/digest;
    inherit glibc;
    libs = [ openssl ];
    ldlibs = "-lssl -lcrypto";
  };

  certinfo = cProgram {
    name = "certinfo";
    src = source "certinfo" ./cmd/certinfo;
    inherit glibc;
    libs = [ openssl ];
    ldlibs = "-lcrypto";
  };

  # ---- Python services (each with its own python3.11-env) ------------------------------
  # Each closure holds the interpreter, ~100 standard-library paths every environment
  # shares, the modules only that service asks for, and their native libraries.

  report = script {
    name = "report";
    interpreter = "${python3.withModules (ps: with ps; [ datetime hashlib json platform ssl zoneinfo ])}/bin/python3.11";
    file = source "report" ./cmd/report/main.py;
  };

  feeds = script {
    name = "feeds";
    interpreter = "${python3.withModules (ps: with ps; [ csv datetime email gzip hashlib http json logging urllib uuid xml ])}/bin/python3.11";
    file = source "feeds" ./cmd/feeds/main.py;
  };

  ledger = script {
    name = "ledger";
    interpreter = "${python3.withModules (ps: with ps; [ csv datetime decimal json lzma sqlite3 statistics uuid zoneinfo ])}/bin/python3.11";
    file = source "ledger" ./cmd/ledger/main.py;
  };

  # ---- shell tools on busybox ------------------------------------------------------------

  backup = script {
    name = "backup";
    interpreter = "${busybox}/bin/sh";
    path = "${busybox}/bin";
    file = source "backup" ./cmd/backup/backup.sh;
  };

  janitor = script {
    name = "janitor";
    interpreter = "${busybox}/bin/sh";
    path = "${busybox}/bin";
    file = source "janitor" ./cmd/janitor/janitor.sh;
  };
}
