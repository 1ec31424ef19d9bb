import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { CATALOG_FILE_NAME, isReservedResultsEntry, openCatalogue } from '@app/catalogue';
import { newRunId } from '@app/storage';
import { REPO_ROOT } from './support/app-process';
import { backdatedRun, run } from './ops-support/system';

/**
 * scripts/backup.sh and scripts/restore.sh, run with bash on temporary directories: a round
 * trip restores every run folder byte for byte (checked against the manifests' md5), a restore
 * never overwrites without --force, and a damaged backup restores nothing.
 */

jest.setTimeout(60_000);

const BACKUP = join(REPO_ROOT, 'scripts/backup.sh');
const RESTORE = join(REPO_ROOT, 'scripts/restore.sh');

/**
 * Every file under `dir` (relative path -> content), for byte-for-byte comparisons; the run
 * catalogue (catalog.sqlite*) is an index, not content, and is left out.
 */
function snapshot(dir: string, prefix = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (prefix === '' && entry.name.startsWith(CATALOG_FILE_NAME)) continue;
    const relative = join(prefix, entry.name);
    if (entry.isDirectory()) Object.assign(files, snapshot(join(dir, entry.name), relative));
    else files[relative] = readFileSync(join(dir, entry.name), 'utf8');
  }
  return files;
}

describe('backup and restore scripts', () => {
  let root: string;
  let resultsDir: string;
  let configDir: string;
  let backupDir: string;
  const ids = [newRunId(), newRunId(), newRunId()];

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'coin-backup-'));
    resultsDir = join(root, 'data', 'tasks');
    configDir = join(root, 'checkout');
    backupDir = join(root, 'backups');
    await backdatedRun(resultsDir, ids[0], 'completed', 0);
    await backdatedRun(resultsDir, ids[1], 'completed', 3);
    await backdatedRun(resultsDir, ids[2], 'failed', 1);
    // A live catalogue beside the folders, as every process keeps one.
    const live = await openCatalogue({
      catalogPath: join(resultsDir, CATALOG_FILE_NAME),
      sqliteMode: 'inline',
    });
    await live.close();
    expect(readdirSync(resultsDir).filter(isReservedResultsEntry)).toContain(CATALOG_FILE_NAME);
    // A write in flight (hidden temp file) is not part of a backup.
    writeFileSync(join(resultsDir, ids[0], '.result.json.123.abcd.tmp'), 'half');
    mkdirSync(join(configDir, 'deploy'), { recursive: true });
    writeFileSync(join(configDir, '.env'), 'API_KEY=backup-test-secret\n');
    writeFileSync(join(configDir, 'deploy', 'prometheus.yml'), 'global: {}\n');
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const backup = () =>
    run('bash', [
      BACKUP,
      '--results-dir',
      resultsDir,
      '--config-dir',
      configDir,
      '--dest',
      backupDir,
    ]);

  it('round-trips the run folders and the config through a dated archive', async () => {
    const made = await backup();
    expect(made).toMatchObject({ code: 0, stderr: '' });
    const archive = made.stdout.trim();
    expect(archive).toMatch(new RegExp(`^${backupDir}/backup-\\d{8}-\\d{6}\\.tar\\.gz$`));
    // It holds the API key: readable by its owner only.
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    // The live catalogue is left out of the archive (SPEC §11): a restore rebuilds it.
    const members = execFileSync('tar', ['-tzf', archive], { encoding: 'utf8' }).split('\n');
    expect(members.filter((name) => name.includes(CATALOG_FILE_NAME))).toEqual([]);
    expect(members).toContain(`results/${ids[0]}/manifest.json`);

    const restoredResults = join(root, 'restored', 'tasks');
    const restoredConfig = join(root, 'restored', 'config');
    const restored = await run('bash', [
      RESTORE,
      archive,
      '--results-dir',
      restoredResults,
      '--config-dir',
      restoredConfig,
    ]);
    expect(restored).toMatchObject({ code: 0 });
    expect(restored.stdout).toContain(`Restored 3 run folder(s) into ${restoredResults}`);
    expect(restored.stdout).toContain('3 manifests, 2 result files verified (md5)');

    const original = snapshot(resultsDir);
    delete original[join(ids[0], '.result.json.123.abcd.tmp')];
    expect(snapshot(restoredResults)).toEqual(original);
    // The restore rebuilt the catalogue: every restored run is listed again.
    const catalogue = await openCatalogue({
      catalogPath: join(restoredResults, CATALOG_FILE_NAME),
      sqliteMode: 'inline',
    });
    try {
      expect((await catalogue.counts()).runs).toEqual({ completed: 2, failed: 1, cancelled: 0 });
    } finally {
      await catalogue.close();
    }
    expect(snapshot(restoredConfig)).toEqual({
      '.env': 'API_KEY=backup-test-secret\n',
      [join('deploy', 'prometheus.yml')]: 'global: {}\n',
    });
    // Nothing of the restore's staging is left beside the results.
    expect(readdirSync(join(root, 'restored')).sort()).toEqual(['config', 'tasks']);
  });

  it('refuses to overwrite existing run folders without --force, and replaces them with it', async () => {
    const archive = (await backup()).stdout.trim();
    const changed = join(resultsDir, ids[1], 'result.json');
    const good = readFileSync(changed, 'utf8');
    writeFileSync(changed, '{"edited": true}');

    const refused = await run('bash', [RESTORE, archive, '--results-dir', resultsDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('refusing to overwrite 3 existing path(s) (use --force)');
    expect(refused.stderr).toContain(join(resultsDir, ids[1]));
    expect(readFileSync(changed, 'utf8')).toBe('{"edited": true}');

    const forced = await run('bash', [RESTORE, archive, '--results-dir', resultsDir, '--force']);
    expect(forced).toMatchObject({ code: 0 });
    expect(readFileSync(changed, 'utf8')).toBe(good);
  });

  it('restores nothing from a damaged backup', async () => {
    // A backup of a results folder whose result file no longer matches its manifest's md5.
    const damagedRoot = join(root, 'damaged');
    const damagedId = newRunId();
    await backdatedRun(damagedRoot, damagedId, 'completed', 0);
    await backdatedRun(damagedRoot, newRunId(), 'completed', 0);
    writeFileSync(join(damagedRoot, damagedId, 'result.json'), '{"tampered": true}');
    const archive = (
      await run('bash', [
        BACKUP,
        '--results-dir',
        damagedRoot,
        '--dest',
        join(root, 'damaged-backups'),
      ])
    ).stdout.trim();

    const target = join(root, 'from-damaged', 'tasks');
    const restored = await run('bash', [RESTORE, archive, '--results-dir', target]);
    expect(restored.code).toBe(1);
    expect(restored.stderr).toContain(`checksum mismatch: ${damagedId}/result.json`);
    expect(restored.stderr).toContain('nothing was restored');
    expect(readdirSync(target)).toEqual([]);
  });

  it('says what is wrong with its arguments', async () => {
    const missing = await run('bash', [RESTORE, join(root, 'nope.tar.gz')]);
    expect(missing).toMatchObject({ code: 1 });
    expect(missing.stderr).toContain('no such file');
    const notABackup = join(root, 'not-a-backup.tar.gz');
    writeFileSync(notABackup, 'plain text');
    expect((await run('bash', [RESTORE, notABackup])).stderr).toContain('not a backup');
    const noResults = await run('bash', [BACKUP, '--results-dir', join(root, 'absent')]);
    expect(noResults.code).toBe(1);
    expect(noResults.stderr).toContain('does not exist');
  });
});
