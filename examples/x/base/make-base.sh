#!/usr/bin/env bash
# Writes base/busybox-base.tar: a one-layer OCI image (OCI layout, as a tar archive)
# holding Debian's static busybox with a link per applet, /etc/passwd, /etc/group and
# /tmp. The gateway service uses it as its base image ("fromImage").
#
# Byte-for-byte reproducible for a given busybox binary: fixed file order, owners and
# mtimes in both tars, gzip without name or timestamp, JSON written field by field.
#
#   base/make-base.sh            (re)write base/busybox-base.tar
#   base/make-base.sh OUT.tar    write somewhere else
#
# Needs: busybox-static (/bin/busybox), GNU tar, gzip, sha256sum.
# Check it with:  skopeo inspect oci-archive:base/busybox-base.tar:latest
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(realpath -m "${1:-$here/busybox-base.tar}")"
busybox="${BUSYBOX:-/bin/busybox}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ---- the root file system -------------------------------------------------------------
root="$work/rootfs"
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
chmod 0755 "$root" "$root/bin" "$root/etc"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"

deterministic_tar() { # deterministic_tar DIR OUT: DIR's content, sorted, root-owned, mtime 0
  # Entries are named without a leading "./" (index.json, bin/sh), as registries' and
  # skopeo's archives are.
  local entries
  mapfile -t entries < <(cd "$1" && LC_ALL=C ls -A)
  LC_ALL=C tar --create --file "$2" --directory "$1" --format=ustar --sort=name \
    --mtime=@0 --owner=0 --group=0 --numeric-owner --no-acls --no-xattrs -- "${entries[@]}"
}

# ---- the image: layer, config, manifest, index --------------------------------------------
layout="$work/layout"
mkdir -p "$layout/blobs/sha256"
sha() { sha256sum "$1" | cut -d ' ' -f 1; }
size() { stat -c %s "$1"; }
blob() { # blob FILE: moves FILE into blobs/, prints its digest
  local d
  d="$(sha "$1")"
  mv "$1" "$layout/blobs/sha256/$d"
  echo "$d"
}

deterministic_tar "$root" "$work/layer.tar"
diff_id="$(sha "$work/layer.tar")"
gzip -n -9 < "$work/layer.tar" > "$work/layer.tar.gz"
layer_size="$(size "$work/layer.tar.gz")"
layer="$(blob "$work/layer.tar.gz")"

printf '%s' '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",'\
'"config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},'\
'"rootfs":{"type":"layers","diff_ids":["sha256:'"$diff_id"'"]},'\
'"history":[{"created":"1970-01-01T00:00:00Z","created_by":"examples/x/base/make-base.sh: busybox"}]}' \
  > "$work/config.json"
config_size="$(size "$work/config.json")"
config="$(blob "$work/config.json")"

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'\
'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'"$config"'","size":'"$config_size"'},'\
'"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'"$layer"'","size":'"$layer_size"'}]}' \
  > "$work/manifest.json"
manifest_size="$(size "$work/manifest.json")"
manifest="$(blob "$work/manifest.json")"

printf '%s' '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'\
'"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'"$manifest"'","size":'"$manifest_size"','\
'"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' > "$layout/index.json"
printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
chmod -R u=rwX,go=rX "$layout"

mkdir -p "$(dirname "$out")"
deterministic_tar "$layout" "$out.tmp"
mv "$out.tmp" "$out"
echo "$out: sha256:$(sha "$out"), manifest sha256:$manifest, layer sha256:$layer ($layer_size bytes)"
