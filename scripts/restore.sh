#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh: its run folders into the results directory and,
# when asked, its configuration files into a directory. Every result file is checked against
# the md5 checksum in its manifest before anything is put in place, and again after.
# Refuses to overwrite an existing run folder or config file unless --force is given.
# Then rebuilds the run catalogue (backups leave it out, SPEC §11) with `cli catalog rebuild`,
# which reads CATALOG_PATH / DATABASE_URL like the service (and .env). Needs bash, GNU tar,
# node and the built CLI (dist/; `npm run build`). See docs/OPERATIONS.md, "Disaster recovery".
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/restore.sh BACKUP.tar.gz [--results-dir DIR] [--config-dir DIR] [--force]

  --results-dir DIR  where the run folders go (default: $RESULTS_DIR, else $DATA_ROOT/tasks,
                     else ./data/tasks); created if missing
  --config-dir DIR   also restore .env, deploy/ and docker-compose.yml into DIR
                     (left out unless given: a restore never replaces live settings by surprise)
  --force            replace run folders and config files that already exist
USAGE
}

archive=""
results_dir=${RESULTS_DIR:-${DATA_ROOT:-./data}/tasks}
config_dir=""
force=false
while [ $# -gt 0 ]; do
  case "$1" in
    --results-dir) results_dir=${2:?--results-dir needs a directory}; shift 2 ;;
    --config-dir) config_dir=${2:?--config-dir needs a directory}; shift 2 ;;
    --force) force=true; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "restore.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *)
      if [ -n "$archive" ]; then echo "restore.sh: one archive at a time" >&2; exit 2; fi
      archive=$1; shift ;;
  esac
done
if [ -z "$archive" ]; then usage >&2; exit 2; fi
if [ ! -f "$archive" ]; then echo "restore.sh: no such file: $archive" >&2; exit 1; fi
if ! tar -tzf "$archive" BACKUP-INFO >/dev/null 2>&1; then
  echo "restore.sh: $archive is not a backup made by scripts/backup.sh (no BACKUP-INFO)" >&2
  exit 1
fi

mkdir -p "$results_dir"
results_abs=$(cd "$results_dir" && pwd)
# Unpacked beside the results (same file system), so putting a folder in place is a rename.
staging=$(mktemp -d "$results_abs/../.restore-XXXXXX")
trap 'rm -rf "$staging"' EXIT
tar -xzf "$archive" -C "$staging" --no-same-owner
mkdir -p "$staging/results"

# Checks every manifest's result files (size and md5) under a results directory; prints
# "N manifests, M files verified" or each mismatch and exits 1. The run ids come on stdin, one
# per line (100,000 of them would not fit in a command line), and the files are read one at
# a time.
verify_checksums() {
  local dir=$1
  shift
  printf '%s\n' "$@" | node -e "$VERIFY_CHECKSUMS_JS" "$dir"
}
VERIFY_CHECKSUMS_JS=$(cat <<'NODE'
const { createHash } = require('node:crypto');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const dir = process.argv[1];
const ids = readFileSync(0, 'utf8').split('\n').filter(Boolean);
let manifests = 0, files = 0;
const problems = [];
for (const id of ids) {
  const manifestPath = join(dir, id, 'manifest.json');
  if (!existsSync(manifestPath)) continue;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (error) {
    problems.push(`${id}/manifest.json: not JSON (${error.message})`);
    continue;
  }
  manifests++;
  for (const file of manifest.result_files ?? []) {
    const path = join(dir, file.path);
    if (!existsSync(path)) { problems.push(`${file.path}: missing`); continue; }
    const bytes = readFileSync(path);
    const md5 = createHash('md5').update(bytes).digest('hex');
    if (md5 !== file.checksum) problems.push(`${file.path}: md5 ${md5}, manifest says ${file.checksum}`);
    else if (bytes.length !== file.size_bytes) problems.push(`${file.path}: ${bytes.length} bytes, manifest says ${file.size_bytes}`);
    else files++;
  }
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`checksum mismatch: ${problem}`);
  process.exit(1);
}
console.log(`${manifests} manifests, ${files} result files verified (md5)`);
NODE
)

# The run folders in the backup, with presets/ and sweeps/: real directories only (a link is
# never restored). A catalogue file in an older backup is never restored: it is rebuilt.
run_ids=()
while IFS= read -r -d '' dir; do run_ids+=("$(basename "$dir")"); done \
  < <(find "$staging/results" -mindepth 1 -maxdepth 1 -type d -print0 | sort -z)

config_items=()
if [ -n "$config_dir" ] && [ -d "$staging/config" ]; then
  while IFS= read -r -d '' item; do config_items+=("$(basename "$item")"); done \
    < <(find "$staging/config" -mindepth 1 -maxdepth 1 -print0 | sort -z)
fi

# Nothing is touched until every check has passed.
if ! verify_checksums "$staging/results" "${run_ids[@]}" >/dev/null; then
  verify_checksums "$staging/results" "${run_ids[@]}" || true
  echo "restore.sh: the backup is damaged; nothing was restored" >&2
  exit 1
fi
if [ "$force" != true ]; then
  conflicts=()
  for id in "${run_ids[@]}"; do
    [ -e "$results_abs/$id" ] && conflicts+=("$results_abs/$id")
  done
  for item in "${config_items[@]}"; do
    [ -e "$config_dir/$item" ] && conflicts+=("$config_dir/$item")
  done
  if [ ${#conflicts[@]} -gt 0 ]; then
    echo "restore.sh: refusing to overwrite ${#conflicts[@]} existing path(s) (use --force):" >&2
    printf '  %s\n' "${conflicts[@]}" >&2
    exit 1
  fi
fi

for id in "${run_ids[@]}"; do
  rm -rf "${results_abs:?}/$id"
  mv "$staging/results/$id" "$results_abs/$id"
done
if [ ${#config_items[@]} -gt 0 ]; then
  mkdir -p "$config_dir"
  for item in "${config_items[@]}"; do
    rm -rf "${config_dir:?}/$item"
    mv "$staging/config/$item" "$config_dir/$item"
  done
fi

echo "Restored ${#run_ids[@]} run folder(s) into $results_abs"
[ ${#config_items[@]} -gt 0 ] && echo "Restored config into $config_dir: ${config_items[*]}"
verify_checksums "$results_abs" "${run_ids[@]}"

# The catalogue follows the folders: a full rebuild also re-reads the manifests a --force
# restore replaced (the start-up rebuild only indexes folders it lacks).
cli="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/dist/src/cli/main.js"
if [ -f "$cli" ] && node "$cli" catalog rebuild --results-dir "$results_abs"; then
  :
else
  echo "restore.sh: the run catalogue was not rebuilt; run: cli catalog rebuild --results-dir $results_abs" >&2
fi
