export * from './candles';
export * from './errors';
