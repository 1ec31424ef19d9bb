export * from './chart-data';
export * from './request';
export * from './result-document';
export * from './run-backtest';
export * from './run-folders';
export * from './trades-csv';
export * from './symbol-activity';
export * from './presets';
