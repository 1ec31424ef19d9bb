export * from './candles';
export * from './errors';
export * from './run-request';
export * from './faults';
export * from './directories';
export * from './map-limit';
export * from './thread-errors';
