import { randomUUID } from 'node:crypto';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Run and task ids are UUIDs; anything else is refused before a path is ever built from it. */
export function isRunId(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

export function newRunId(): string {
  return randomUUID();
}
