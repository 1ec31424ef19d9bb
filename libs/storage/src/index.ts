export * from './atomic-file';
export * from './manifest';
export * from './result-store';
export * from './run-id';
