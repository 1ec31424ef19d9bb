export * from './rows';
export { SCHEMA_VERSION } from './schema';
