import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';

/**
 * The Lua scripts of ./lua, one file each with a header listing its KEYS, ARGV and returns,
 * named `{command}-{number of keys}.lua` as BullMQ names its own. The build copies the folder
 * beside the compiled code (scripts/copy-build-assets.mjs).
 */
const SCRIPT_DIR = join(__dirname, 'lua');

export interface LuaCommand {
  /** The ioredis command name, e.g. transitionTask. */
  readonly name: string;
  readonly numberOfKeys: number;
  readonly lua: string;
}

const loaded = new Map<string, LuaCommand>();

/** Reads `lua/{file}` once; the key count comes from its name. */
export function luaCommand(file: string): LuaCommand {
  let command = loaded.get(file);
  if (!command) {
    const match = /^([A-Za-z]+)-(\d+)\.lua$/.exec(file);
    if (!match) throw new Error(`Lua script names are {command}-{keys}.lua, not ${file}`);
    command = {
      name: match[1],
      numberOfKeys: Number(match[2]),
      lua: readFileSync(join(SCRIPT_DIR, file), 'utf8'),
    };
    loaded.set(file, command);
  }
  return command;
}

/** Defines the commands on a connection (once: ioredis keeps them per connection, EVALSHA first). */
export function defineLuaCommands(redis: Redis, files: readonly string[]): void {
  for (const file of files) {
    const { name, numberOfKeys, lua } = luaCommand(file);
    if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
  }
}
