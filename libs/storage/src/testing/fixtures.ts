import { EMPTY_SUMMARY } from '../manifest';
import { ManifestFields } from '../result-store';

/** Manifest fields of a plausible finished run, for tests; override what a test is about. */
export function manifestFields(overrides: Partial<ManifestFields> = {}): ManifestFields {
  return {
    strategy: 'volume_long_candle',
    params: { vol_ma_window: 20 },
    execution: { fee: 0, slippage: 0, positions: 'overlap' },
    symbols: ['BTC_KRW'],
    start_date: '2024-01-01',
    end_date: '2024-01-31',
    timeframe: '1D',
    metadata: {
      created_at: '2024-02-01T00:00:00.000Z',
      started_at: '2024-02-01T00:00:00.000Z',
      finished_at: '2024-02-01T00:00:01.000Z',
      duration_ms: 1000,
      execution_host: 'test',
      environment: 'test',
      worker_id: null,
    },
    summary: { ...EMPTY_SUMMARY, total_signals: 3, symbols_processed: 1, avg_return: 1.5 },
    error: { occurred: false, message: null },
    ...overrides,
  };
}
