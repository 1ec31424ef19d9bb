import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '@app/common';
import { writeFileAtomic } from './atomic-file';
import { ResultStore } from './result-store';
import { manifestFields } from './testing/fixtures';
import { newRunId } from './run-id';

describe('ResultStore', () => {
  let dir: string;
  let store: ResultStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'coin-results-'));
    store = new ResultStore(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes result.json and a manifest whose md5 and size match the file on disk', async () => {
    const id = newRunId();
    const result = JSON.stringify({ version: '1.1.0', run_id: id, note: 'ünïcode' });
    const manifest = await store.saveCompleted(id, result, manifestFields());
    const bytes = readFileSync(join(dir, id, 'result.json'));
    expect(bytes.toString('utf8')).toBe(result);
    expect(manifest.result_files).toEqual([
      {
        name: 'result.json',
        path: `${id}/result.json`,
        size_bytes: bytes.length,
        checksum: createHash('md5').update(bytes).digest('hex'),
      },
    ]);
    const onDisk = JSON.parse(readFileSync(join(dir, id, 'manifest.json'), 'utf8'));
    expect(onDisk).toEqual(manifest);
    expect(onDisk.status).toBe('completed');
    expect(readdirSync(join(dir, id)).sort()).toEqual(['manifest.json', 'result.json']);
  });

  it('writes the same folder with blocking writes (as worker threads do)', async () => {
    const blocking = new ResultStore(dir, { blockingWrites: true });
    const id = newRunId();
    const manifest = await blocking.saveCompleted(id, '{"blocking":true}', manifestFields());
    expect(readFileSync(join(dir, id, 'result.json'), 'utf8')).toBe('{"blocking":true}');
    expect(manifest.result_files[0]?.checksum).toBe(
      createHash('md5').update('{"blocking":true}').digest('hex'),
    );
    expect(JSON.parse(readFileSync(join(dir, id, 'manifest.json'), 'utf8'))).toEqual(manifest);
    expect(readdirSync(join(dir, id)).sort()).toEqual(['manifest.json', 'result.json']);
  });

  it('reads back manifests and results, also from a fresh process (no cache)', async () => {
    const id = newRunId();
    await store.saveCompleted(id, '{"a":1}', manifestFields());
    const fresh = new ResultStore(dir);
    expect((await fresh.readManifest(id))?.status).toBe('completed');
    expect(await fresh.readResultText(id)).toBe('{"a":1}');
    expect((await fresh.resultFile(id)).size_bytes).toBe(7);
  });

  it('sees a manifest another process rewrote, never a stale copy', async () => {
    const id = newRunId();
    const old = manifestFields();
    await store.saveCompleted(id, '{"a":1}', old);
    expect((await store.readManifest(id))?.metadata.finished_at).toBe(old.metadata.finished_at);
    // Another process (a worker) finishes the run again later and rewrites the folder.
    const finishedLater = '2026-11-28T09:00:00.000Z';
    await new ResultStore(dir).saveCompleted(
      id,
      '{"a":2}',
      manifestFields({ metadata: { ...old.metadata, finished_at: finishedLater } }),
    );
    expect((await store.readManifest(id))?.metadata.finished_at).toBe(finishedLater);
    rmSync(join(dir, id), { recursive: true });
    expect(await store.readManifest(id)).toBeUndefined();
  });

  it('writes the other files of a completed run first, each with its md5 and size', async () => {
    const id = newRunId();
    const chart = '{"symbols":[]}';
    const manifest = await store.saveCompleted(id, '{"a":1}', manifestFields(), [
      { name: 'chart.json', content: chart },
    ]);
    expect(manifest.result_files.map((file) => file.name)).toEqual(['result.json', 'chart.json']);
    expect(manifest.result_files[1]).toEqual({
      name: 'chart.json',
      path: `${id}/chart.json`,
      size_bytes: Buffer.byteLength(chart),
      checksum: createHash('md5').update(chart).digest('hex'),
    });
    expect(readFileSync(join(dir, id, 'chart.json'), 'utf8')).toBe(chart);
  });

  it('records a cancelled run with a manifest only, removing the files a race left behind', async () => {
    const id = newRunId();
    await store.saveCompleted(id, '{}', manifestFields(), [{ name: 'chart.json', content: '{}' }]);
    const manifest = await store.saveUnfinished(
      id,
      'cancelled',
      manifestFields({ error: { occurred: false, message: 'cancelled by the user' } }),
    );
    expect(manifest.status).toBe('cancelled');
    expect(manifest.result_files).toEqual([]);
    expect(readdirSync(join(dir, id))).toEqual(['manifest.json']);
    await expect(store.readResultText(id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses ids that are not UUIDs without touching the file system', async () => {
    expect(() => store.runDir('../etc')).toThrow(NotFoundError);
    expect(() => store.runDir('..')).toThrow(NotFoundError);
    await expect(store.readManifest('../../etc/passwd')).resolves.toBeUndefined();
    await expect(store.resultFile('nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('reads each finished run’s manifest and treats an unreadable one as no run', async () => {
    const older = newRunId();
    const newer = newRunId();
    await store.saveCompleted(older, '{}', manifestFields());
    await store.saveUnfinished(
      newer,
      'failed',
      manifestFields({
        metadata: { ...manifestFields().metadata, finished_at: '2024-03-01T00:00:00.000Z' },
        error: { occurred: true, message: 'boom' },
      }),
    );
    const broken = newRunId();
    await store.saveCompleted(broken, '{}', manifestFields());
    writeFileSync(join(dir, broken, 'manifest.json'), '{ half');
    const fresh = new ResultStore(dir);
    expect((await fresh.readManifest(older))?.status).toBe('completed');
    expect(await fresh.readManifest(newer)).toMatchObject({
      status: 'failed',
      error: { message: 'boom' },
    });
    expect(await fresh.readManifest(broken)).toBeUndefined();
    expect(await fresh.readManifest('README.txt')).toBeUndefined();
  });
});

describe('writeFileAtomic', () => {
  it('replaces a file whole and leaves no temp file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'coin-atomic-'));
    try {
      const path = join(dir, 'file.json');
      await writeFileAtomic(path, 'first');
      await writeFileAtomic(path, 'second, longer content');
      expect(readFileSync(path, 'utf8')).toBe('second, longer content');
      expect(readdirSync(dir)).toEqual(['file.json']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails cleanly when the directory does not exist', async () => {
    await expect(writeFileAtomic('/nonexistent-dir-coin/x.json', 'x')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
