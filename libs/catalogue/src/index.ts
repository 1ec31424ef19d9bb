export * from './bench/run-folders';
export * from './catalogue';
export * from './open-catalogue';
export * from './rebuild';
export * from './results-dir';
export * from './rows';
export { SCHEMA_VERSION } from './schema';
export type { SqliteMode } from './sqlite-driver';
