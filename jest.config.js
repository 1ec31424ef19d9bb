// One Jest config for unit specs (beside the code) and end-to-end tests (test/).
// SWC compiles TypeScript (with decorator metadata, which Nest's DI needs) and the
// ESM-only hyparquet packages, which Jest's CommonJS runtime cannot load as they are.
const { compilerOptions } = require('./tsconfig.json');

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const moduleNameMapper = {
  ...Object.fromEntries(
    Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
      `^${alias}$`,
      `<rootDir>/${target}`,
    ]),
  ),
  // A dynamic import() names the compiled file ('./backtest.js', as Node's ESM resolution
  // needs); under Jest that file is the TypeScript source beside it.
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

const esmPackages = ['hyparquet', 'hyparquet-compressors', 'hyparquet-writer', 'hysnappy', 'fzstd'];

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts', '**/*.e2e-spec.ts'],
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages.join('|')})/)`],
  moduleNameMapper,
};
