import { join } from 'node:path';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import { DataFileError, InvalidInputError } from '@app/common';
import { AppConfig } from '@app/config';
import { InjectConfig } from '@app/platform';
import type { CandleWindowQuery } from './candle-window';
import type { CandleWindowReply, CandleWindowThreadSettings } from './candle-window.thread';

const MIB = 1024 * 1024;

/** Reader threads: two at most, so a burst of zooms shares the machine with the rest. */
export const CANDLE_READER_THREADS = 2;

/** The compiled thread file beside this one. */
const THREAD_FILE = join(__dirname, 'candle-window.thread.js');

/**
 * Reads candle windows on worker threads (SPEC §14: the API never decodes Parquet on its event
 * loop). One thread starts with the API; a second joins under load and stays while in use.
 */
@Injectable()
export class CandleWindowPool implements OnApplicationShutdown {
  private readonly pool: Piscina<CandleWindowQuery, CandleWindowReply>;

  constructor(@InjectConfig() config: AppConfig) {
    const workerData: CandleWindowThreadSettings = {
      dataRoot: config.dataRoot,
      candleCacheBytes: Math.floor((config.candleCacheMb * MIB) / CANDLE_READER_THREADS),
    };
    this.pool = new Piscina({
      filename: THREAD_FILE,
      minThreads: 1,
      maxThreads: CANDLE_READER_THREADS,
      // A parsed year file is what makes the next zoom fast: keep idle threads a while.
      idleTimeout: 10 * 60_000,
      workerData,
    });
  }

  /** The window as JSON text; a file that cannot be read is a DataFileError, as in a run. */
  async read(query: CandleWindowQuery): Promise<string> {
    const reply = await this.pool.run(query);
    if (reply.kind === 'data_file') throw new DataFileError(reply.file, reply.problem);
    if (reply.kind === 'invalid') throw new InvalidInputError(reply.problems);
    return reply.json;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }
}
