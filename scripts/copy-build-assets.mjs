// Copies the files the compiled code reads at run time (not TypeScript, so tsc leaves them)
// from apps/ and libs/ to the same place under dist/: the Redis Lua scripts, the report
// pages' assets.
import { cpSync, globSync } from 'node:fs';
import { join } from 'node:path';

const ASSETS = [
  'libs/*/src/lua/*.lua',
  'apps/*/src/**/assets/**/*.{html,css,js}',
  'libs/*/src/**/assets/**/*.{html,css,js}',
];

for (const pattern of ASSETS) {
  for (const file of globSync(pattern)) cpSync(file, join('dist', file));
}
