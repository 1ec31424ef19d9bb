// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      // Nest classes are often empty modules or decorated shells.
      '@typescript-eslint/no-extraneous-class': 'off',
      // Libraries are the core: they must never import the apps.
      'no-restricted-imports': 'off',
    },
  },
  {
    files: ['libs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['**/apps/**', '**/src/cli/**'] }],
    },
  },
  {
    // The CLI is plain TypeScript over the libraries: no Nest (nor the Nest wiring in
    // @app/platform), so that it starts in a blink; the apps are processes, not libraries.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@app/platform', message: 'Nest wiring: the CLI uses the plain libraries.' },
          ],
          patterns: [
            { group: ['@nestjs/*'], message: 'The CLI is plain TypeScript: no Nest.' },
            { group: ['**/apps/**'], message: 'The CLI uses the libraries, never an app.' },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/strategies/**/*.ts', 'libs/data/**/*.ts', 'libs/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@nestjs/*', '**/apps/**', '**/src/cli/**'] },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
