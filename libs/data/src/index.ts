/**
 * @app/data: market data on disk. Validation of symbols, timeframes and KST dates; the
 * Parquet candle loader; the inventory; the writer and CSV import. No Nest here: the
 * worker's sandboxed processor and the CLI call these as plain functions.
 */
export { CandleFileCache, DEFAULT_CANDLE_CACHE_BYTES } from './candle-file-cache';
export type { CandleFileCacheOptions, FileVersion } from './candle-file-cache';
export { CANDLE_COLUMNS, sortAndDeduplicate } from './candle-order';
export type { CandleColumn } from './candle-order';
export { importCsv, parseCandleCsv } from './csv-import';
export type { ImportCsvRequest, ImportCsvSummary } from './csv-import';
export { describeCandleFile, listCandleFiles, listInventory } from './inventory';
export type { CandleFileEntry, InventoryEntry, InventoryFilter } from './inventory';
export {
  formatUtcIso,
  KST_OFFSET_MS,
  kstDateRange,
  kstYear,
  parseIsoTimestamp,
  parseKstDate,
  utcYear,
} from './kst-time';
export type { EpochRange } from './kst-time';
export { candleFileLocation, resolveInsideDataRoot } from './layout';
export type { CandleFileLocation } from './layout';
export { loadCandles } from './load-candles';
export type { LoadCandlesOptions } from './load-candles';
export { candleFileRowCount, readCandleFile } from './parquet-candles';
export { countRunCandles } from './run-candles';
export { describeMissingData } from './missing-data';
export type { RunCandleCount } from './run-candles';
export { checkTimeframeSpacing, checkUploadedCandles } from './upload-check';
export type { CheckedUpload } from './upload-check';
export { generateCandles, seededRandom } from './synthetic';
export type { SyntheticCandleOptions } from './synthetic';
export {
  parseSymbol,
  parseTimeframe,
  parseYear,
  SYMBOL_PATTERN,
  SYMBOL_RULE,
  TIMEFRAME_MS,
  TIMEFRAMES,
} from './validation';
export type { Timeframe } from './validation';
export { DEFAULT_ROW_GROUP_SIZE, encodeCandleFile, writeCandleFile } from './write-candles';
export type { CandleCompression, WriteCandleFileOptions } from './write-candles';
