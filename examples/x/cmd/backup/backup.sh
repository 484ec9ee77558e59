# backup: archive a directory into a checksummed .tar.gz (busybox sh and applets only).
#   BACKUP_SOURCE  directory to archive (default /data)
#   BACKUP_DEST    where archives go (default /backup)
#   BACKUP_NAME    archive name prefix (default backup)
# Prints one line: archive=<path> files=<n> sha256=<hex>
set -eu
src="${BACKUP_SOURCE:-/data}"
dest="${BACKUP_DEST:-/backup}"
name="${BACKUP_NAME:-backup}"
[ -d "$src" ] || { echo "backup: $src: no such directory" >&2; exit 1; }
mkdir -p "$dest"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
archive="$dest/$name-$stamp.tar.gz"
tar -C "$src" -czf "$archive" .
files="$(find "$src" -type f | wc -l)"
sum="$(sha256sum "$archive" | cut -d ' ' -f 1)"
echo "archive=$archive files=$files sha256=$sum"
