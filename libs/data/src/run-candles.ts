import { mapLimit, MAX_OPEN_FILES } from '@app/common';
import { EpochRange } from './kst-time';
import { yearFilesForRange } from './layout';
import { candleFileRowCount } from './parquet-candles';

/** The candles a run would read: in all, and by symbol. */
export interface RunCandleCount {
  total: number;
  bySymbol: Record<string, number>;
}

/**
 * The rows of every year file a run over `symbols` × `range` reads, from the files' footers
 * (no candle is read): the figure MAX_CANDLES_PER_RUN is held against before the run is
 * queued (issue 10, item 4). A year file counts whole, as the run decodes it whole; so the
 * figure is an upper bound of the candles inside the range, never below it. At most
 * MAX_OPEN_FILES footers are read at once, however many symbols and years.
 */
export async function countRunCandles(
  dataRoot: string,
  symbols: readonly string[],
  timeframe: string,
  range: EpochRange,
): Promise<RunCandleCount> {
  const files = (
    await mapLimit(symbols, MAX_OPEN_FILES, async (symbol) =>
      (await yearFilesForRange(dataRoot, symbol, timeframe, range)).map((file) => ({
        symbol,
        file,
      })),
    )
  ).flat();
  const rows = await mapLimit(files, MAX_OPEN_FILES, ({ file }) =>
    candleFileRowCount(file.absolutePath, file.relativePath),
  );
  const bySymbol: Record<string, number> = Object.fromEntries(symbols.map((symbol) => [symbol, 0]));
  files.forEach(({ symbol }, index) => (bySymbol[symbol] += rows[index]));
  return { total: rows.reduce((sum, count) => sum + count, 0), bySymbol };
}
