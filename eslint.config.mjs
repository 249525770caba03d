// @ts-check
import eslint from '@eslint/js';
import eslintPluginPrettierRecommended from 'eslint-plugin-prettier/recommended';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'coverage/**', 'data/**', 'eslint.config.mjs', 'jest.config.js', 'tools/ferretdb/bin/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  eslintPluginPrettierRecommended,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['tools/ferretdb/build.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false, fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // The application reaches the engine only through the watermarking facade, and the facade
    // only through the engine's index.ts (benches and specs may use engine internals).
    files: ['src/**/*.ts'],
    ignores: ['src/watermark/**', 'src/watermarking/**', '**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/watermark/*', '**/watermark'],
              message: 'Reach the engine through src/watermarking (WatermarkEngine, WatermarkKeysService).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/watermarking/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/watermark/*', '!**/watermark/index.js'],
              message: "Import the engine through its index.ts ('../watermark/index.js').",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  // The edge's njs script is plain JavaScript run by nginx: no type information, njs globals.
  { files: ['edge/**/*.js'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['edge/**/*.js'],
    languageOptions: { globals: { Buffer: 'readonly', edge_config: 'readonly', revoked: 'readonly' } },
    // njs 0.7 has no optional catch binding: `catch (e)` with e unused.
    rules: { '@typescript-eslint/no-unused-vars': ['error', { caughtErrors: 'none' }] },
  },
);
