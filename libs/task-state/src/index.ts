export * from './lua-scripts';
export * from './redis-keys';
export * from './redis-lock';
export * from './task';
export * from './task-job';
export * from './task-state.store';
export * from './sweep-state.store';
