import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { Preset, PresetContent } from '@app/backtest';
import {
  Catalogue,
  PresetRow,
  PRESETS_DIR_NAME,
  presetFileKey,
  presetFileName,
} from '@app/catalogue';
import { makeDirectory, NotFoundError, TryLaterError } from '@app/common';
import { AppConfig } from '@app/config';
import { InjectCatalogue, InjectConfig, RedisConnections } from '@app/platform';
import { writeFileAtomic } from '@app/storage';
import { RedisLock, redisKeys } from '@app/task-state';

const PRESET_LOCK_TTL_MS = 10_000;
const PRESET_LOCK_WAIT_MS = 5_000;

/**
 * SPEC §10.7's presets: each a file `RESULTS_DIR/presets/{sha256 of its name}.json` (the
 * truth: backups carry them, a catalogue rebuild re-indexes them) and a catalogue row (what
 * every replica lists and looks up). A change of one preset holds its Redis lock, so its row
 * and its file always say the same; creating one lets the catalogue's unique row decide a
 * race for a name.
 */
@Injectable()
export class Presets {
  private readonly dir: string;

  constructor(
    @InjectConfig() private readonly config: AppConfig,
    @InjectCatalogue() private readonly catalogue: Catalogue,
    private readonly redis: RedisConnections,
  ) {
    this.dir = join(config.resultsDir, PRESETS_DIR_NAME);
  }

  async list(): Promise<Preset[]> {
    return (await this.catalogue.listPresets()).map(presetOf);
  }

  /** `name` as the PresetNamePipe normalised it. */
  async get(name: string): Promise<Preset> {
    const row = await this.catalogue.getPreset(name);
    if (!row) throw new NotFoundError(`No preset named ${JSON.stringify(name)}`);
    return presetOf(row);
  }

  /** POST: a new preset (validated by its DTO); 409 when the name is taken. */
  async create(name: string, content: PresetContent): Promise<Preset> {
    return this.locked(name, async () => {
      const now = new Date().toISOString();
      const row: PresetRow = {
        name,
        ...content,
        created_at: now,
        updated_at: now,
        file_fingerprint: null,
      };
      // The unique row decides a race for the name across replicas; then the file.
      await this.catalogue.createPreset(row);
      await this.writeFile(row);
      return presetOf(row);
    });
  }

  /** PUT: replaces the whole preset (its creation time stays); 404 when there is none. */
  async replace(name: string, content: PresetContent): Promise<Preset> {
    return this.locked(name, async () => {
      const existing = await this.catalogue.getPreset(name);
      if (!existing) throw new NotFoundError(`No preset named ${JSON.stringify(name)}`);
      const row: PresetRow = {
        ...existing,
        ...content,
        updated_at: new Date().toISOString(),
      };
      await this.writeFile(row);
      await this.catalogue.savePreset(row);
      return presetOf(row);
    });
  }

  /** DELETE: the file first, then the row (a crash in between heals on rebuild). */
  async remove(name: string): Promise<void> {
    await this.locked(name, async () => {
      if (!(await this.catalogue.getPreset(name))) {
        throw new NotFoundError(`No preset named ${JSON.stringify(name)}`);
      }
      await rm(join(this.dir, presetFileName(name)), { force: true });
      await this.catalogue.removePreset(name);
    });
  }

  private async writeFile(row: PresetRow): Promise<void> {
    await makeDirectory(this.dir);
    await writeFileAtomic(
      join(this.dir, presetFileName(row.name)),
      `${JSON.stringify(presetOf(row), null, 2)}\n`,
    );
  }

  private async locked<T>(name: string, work: () => Promise<T>): Promise<T> {
    const lock = new RedisLock(
      this.redis.client,
      redisKeys.presetLock(this.config.queueName, presetFileKey(name)),
      PRESET_LOCK_TTL_MS,
    );
    const token = await lock.acquireWithin(PRESET_LOCK_WAIT_MS);
    if (token === undefined) {
      throw new TryLaterError(`Preset ${JSON.stringify(name)} is being changed; retry`, 2);
    }
    try {
      return await work();
    } finally {
      await lock.release(token).catch(() => undefined);
    }
  }
}

function presetOf(row: PresetRow): Preset {
  return {
    name: row.name,
    strategy: row.strategy,
    params: row.params as Preset['params'],
    description: row.description,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
