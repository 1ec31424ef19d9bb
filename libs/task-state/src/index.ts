export * from './task';
export * from './task-state.store';
