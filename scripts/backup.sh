#!/usr/bin/env bash
# Backs up the run folders (RESULTS_DIR, with its presets/ and sweeps/) and the configuration
# (.env when present, deploy/, docker-compose.yml) to <dest>/backup-YYYYMMDD-HHMMSS.tar.gz and
# prints the archive's path. The run catalogue (catalog.sqlite*) is left out: it is an index
# of the folders, and a copy taken mid-write would not even be consistent; restore.sh rebuilds
# it (SPEC §11).
# Run folders are written atomically (temp file + rename), so a backup taken while the
# service runs holds whole files; hidden temp files of writes in flight are left out.
# Restore with scripts/restore.sh. See docs/OPERATIONS.md, "Disaster recovery".
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/backup.sh [--results-dir DIR] [--config-dir DIR] [--dest DIR]

  --results-dir DIR  run folders to back up (default: $RESULTS_DIR, else $DATA_ROOT/tasks,
                     else ./data/tasks)
  --config-dir DIR   where .env, deploy/ and docker-compose.yml are (default: the checkout
                     this script is in)
  --dest DIR         where the archive goes (default: $BACKUP_DIR, else ./backups)

Prints the path of the archive. It may hold secrets (.env): it is created readable by its
owner only.
USAGE
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
results_dir=${RESULTS_DIR:-${DATA_ROOT:-./data}/tasks}
config_dir=$(dirname "$script_dir")
dest=${BACKUP_DIR:-./backups}

while [ $# -gt 0 ]; do
  case "$1" in
    --results-dir) results_dir=${2:?--results-dir needs a directory}; shift 2 ;;
    --config-dir) config_dir=${2:?--config-dir needs a directory}; shift 2 ;;
    --dest) dest=${2:?--dest needs a directory}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "backup.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

if [ ! -d "$results_dir" ]; then
  echo "backup.sh: results directory '$results_dir' does not exist (set --results-dir)" >&2
  exit 1
fi

umask 077
mkdir -p "$dest"
# One archive per second: a second backup within the same second waits for the next one.
while
  archive="$(cd "$dest" && pwd)/backup-$(date -u +%Y%m%d-%H%M%S).tar.gz"
  [ -e "$archive" ] || [ -e "$archive.partial" ]
do sleep 0.2; done

staging=$(mktemp -d)
trap 'rm -rf "$staging" "$archive.partial"' EXIT
mkdir -p "$staging/config"
results_abs=$(cd "$results_dir" && pwd)
runs=$(find "$results_abs" -mindepth 2 -maxdepth 2 -name manifest.json | wc -l | tr -d ' ')

config_items=()
for item in .env deploy docker-compose.yml; do
  if [ -e "$config_dir/$item" ]; then
    cp -R "$config_dir/$item" "$staging/config/"
    config_items+=("$item")
  fi
done

cat >"$staging/BACKUP-INFO" <<INFO
created_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
host=$(hostname)
results_dir=$results_abs
runs=$runs
config=${config_items[*]:-}
INFO

# Archive layout: BACKUP-INFO, config/..., results/{id}/{result.json,manifest.json}. Links
# inside the results are stored as links, never followed; temp files of writes in flight,
# health probe files and the catalogue (RESULTS_DIR/catalog.sqlite, -wal, -shm) are left out.
# GNU tar exits 1 when a file changed while it was read (a run finishing, the cleanup
# deleting a folder): the archive is still whole, so that is only worth a warning.
status=0
tar --create --gzip --file "$archive.partial" \
  --exclude='.*.tmp' --exclude='.health-probe-*' --exclude='./catalog.sqlite*' \
  --directory "$staging" BACKUP-INFO config \
  --directory "$results_abs" --transform 's,^\./,results/,;s,^\.$,results,' . || status=$?
if [ "$status" -gt 1 ]; then
  echo "backup.sh: tar failed (exit $status); no backup written" >&2
  exit 1
fi
[ "$status" -eq 1 ] && echo "backup.sh: some files changed while being archived" >&2
mv "$archive.partial" "$archive"
echo "$archive"
