export * from './chunking';
export * from './evaluate-chunk';
export * from './ranking';
export * from './sweep-files';
export * from './sweep-request';
export * from './windows';
export * from './catalogue-row';
export * from './sweep-cleanup';
