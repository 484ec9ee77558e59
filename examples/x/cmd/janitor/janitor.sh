# janitor: remove files older than a number of days (busybox sh and applets only).
#   JANITOR_DIRS  space-separated directories to clean (default /tmp)
#   JANITOR_DAYS  age in days; older files go (default 7)
# Prints each removed file, then removed=<n>.
set -eu
days="${JANITOR_DAYS:-7}"
removed=0
for dir in ${JANITOR_DIRS:-/tmp}; do
  [ -d "$dir" ] || continue
  for f in $(find "$dir" -type f -mtime +"$days"); do
    rm -f "$f"
    echo "removed $f"
    removed=$((removed + 1))
  done
done
echo "removed=$removed"
