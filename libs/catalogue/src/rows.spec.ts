import { generateRunManifests } from './bench/run-folders';
import {
  CataloguedManifest,
  fileFingerprint,
  presetFileKey,
  presetFileName,
  presetRowFromFile,
  runRowFromManifest,
  sweepRowFromManifest,
  UnreadableEntryError,
} from './rows';

const [generated] = generateRunManifests(1, { seed: 2, now: new Date('2026-12-10T00:00:00Z') });

/** A completed run's manifest with the SPEC §12 fields, as the writer now writes it. */
const manifest: CataloguedManifest = {
  ...generated,
  task_id: 'AB9C1D2E-3F40-4A5B-8C6D-7E8F90A1B2C3',
  status: 'completed',
  strategy: 'volume_long_candle',
  params: { vol_ma_window: 20, vol_multiplier: 1.5 },
  symbols: ['ETH_BTC', 'LTC_BTC'],
  start_date: '2018-01-10',
  end_date: '2018-01-31',
  timeframe: '5M',
  metadata: {
    ...generated.metadata,
    created_at: '2026-12-01T10:00:00Z',
    started_at: '2026-12-01T19:00:00.5+09:00',
    finished_at: '2026-12-01T10:00:01.2Z',
    duration_ms: 1200,
  },
  summary: {
    total_signals: 21,
    symbols_processed: 2,
    symbols_failed: 0,
    average_execution_time_per_symbol_ms: 600,
    avg_return: 0.12,
    execution_time: 1.05,
    portfolio: { total_return_pct: 3.5, sharpe: null },
  },
  execution: { fee: 0.001, slippage: 0, positions: 'single' },
  error: { occurred: false, message: null },
};

describe('runRowFromManifest', () => {
  it('takes every column from the manifest, times as ISO UTC with milliseconds', () => {
    expect(runRowFromManifest(manifest, '1:2:3')).toEqual({
      id: 'ab9c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3',
      status: 'completed',
      strategy: 'volume_long_candle',
      params: { vol_ma_window: 20, vol_multiplier: 1.5 },
      symbols: ['ETH_BTC', 'LTC_BTC'],
      start_date: '2018-01-10',
      end_date: '2018-01-31',
      timeframe: '5M',
      created_at: '2026-12-01T10:00:00.000Z',
      started_at: '2026-12-01T10:00:00.500Z',
      finished_at: '2026-12-01T10:00:01.200Z',
      duration_ms: 1200,
      total_signals: 21,
      symbols_processed: 2,
      symbols_failed: 0,
      avg_return: 0.12,
      execution_time: 1.05,
      error: null,
      execution: { fee: 0.001, slippage: 0, positions: 'single' },
      portfolio: { total_return_pct: 3.5, sharpe: null },
      manifest_fingerprint: '1:2:3',
    });
  });

  it("gives execution_time as the result's for a completed run, duration_ms/1000 otherwise", () => {
    const failed: CataloguedManifest = {
      ...manifest,
      status: 'failed',
      error: { occurred: true, message: 'No data found' },
    };
    expect(runRowFromManifest(failed)).toMatchObject({
      execution_time: 1.2,
      error: 'No data found',
    });
    const { execution_time: _dropped, ...olderSummary } = manifest.summary;
    expect(runRowFromManifest({ ...manifest, summary: olderSummary }).execution_time).toBe(1.2);
    const noDuration = { ...manifest.metadata, duration_ms: null };
    expect(runRowFromManifest({ ...failed, metadata: noDuration }).execution_time).toBeNull();
  });

  it('reads a manifest written before SPEC §12 (no execution, portfolio, execution_time)', () => {
    const { execution: _e, ...older } = manifest;
    const summary = {
      total_signals: 0,
      symbols_processed: 1,
      symbols_failed: 0,
      average_execution_time_per_symbol_ms: 5,
      avg_return: null,
    };
    expect(runRowFromManifest({ ...older, summary })).toMatchObject({
      execution: null,
      portfolio: null,
      avg_return: null,
      execution_time: 1.2,
    });
  });

  it.each([
    ['a task id that is not a UUID', { task_id: '../etc' }],
    ['an unknown status', { status: 'running' }],
    ['symbols that are not strings', { symbols: ['BTC_KRW', 3] }],
    ['a date that is not YYYY-MM-DD', { start_date: '2018-1-1' }],
    ['no finish time', { metadata: { ...manifest.metadata, finished_at: 'soon' } }],
    ['a count that is not a whole number', { summary: { ...manifest.summary, total_signals: -1 } }],
    ['params that are not an object', { params: [1, 2] }],
  ])('refuses %s', (_what, change) => {
    expect(() => runRowFromManifest({ ...manifest, ...change } as CataloguedManifest)).toThrow(
      UnreadableEntryError,
    );
  });
});

describe('presets and sweeps', () => {
  it('names a preset file by the sha256 of its name', () => {
    expect(presetFileKey('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(presetFileName('abc')).toBe(`${presetFileKey('abc')}.json`);
  });

  it('reads a preset file', () => {
    const file = {
      name: '빠른 돌파',
      strategy: 'volume_zone_breakout',
      params: { volume_window: 60 },
      created_at: '2026-12-01T00:00:00Z',
      updated_at: '2026-12-02T00:00:00Z',
    };
    expect(presetRowFromFile(file, 'v')).toEqual({
      ...file,
      description: null,
      created_at: '2026-12-01T00:00:00.000Z',
      updated_at: '2026-12-02T00:00:00.000Z',
      file_fingerprint: 'v',
    });
    expect(() => presetRowFromFile({ ...file, name: '' })).toThrow(UnreadableEntryError);
  });

  it('reads a sweep manifest', () => {
    const file = {
      sweep_id: '00000000-0000-4000-8000-000000000001',
      status: 'running',
      strategy: 'volume_long_candle',
      symbols: ['BTC_KRW'],
      timeframe: '1H',
      start_date: '2024-01-01',
      end_date: '2024-02-01',
      combinations: 10,
      done: 4,
      objective: 'sharpe',
      created_at: '2026-12-01T00:00:00.000Z',
      finished_at: null,
      best: null,
    };
    expect(sweepRowFromManifest(file)).toEqual({
      ...file,
      error: null,
      manifest_fingerprint: null,
    });
    expect(() => sweepRowFromManifest({ ...file, status: 'paused' })).toThrow(UnreadableEntryError);
  });

  it('fingerprints a file by inode, size and modification time', () => {
    expect(fileFingerprint({ ino: 12, size: 340, mtimeMs: 1765000000123.5 })).toBe(
      '12:340:1765000000123.5',
    );
  });
});
