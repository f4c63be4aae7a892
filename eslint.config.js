// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.killtrace/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // The correlation core is pure: the embedded analyser and the stream must give identical records,
    // so it may not touch files, the network, the clock or any adapter.
    files: ['libs/correlation/src/**/*.ts', 'libs/errors/src/**/*.ts', 'libs/alerting/src/**/*.ts', 'libs/schemas/src/**/*.ts', 'libs/parsers/src/**/*.ts', 'libs/render/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'fs/*', 'net', 'http', 'https', 'child_process', 'os', 'path'], message: 'Pure library: no I/O.' },
            { group: ['kafkajs', '@elastic/*', '@killtrace/kafka', '@killtrace/elastic', '@killtrace/bundle', '@killtrace/config', '@killtrace/logging', 'pino'], message: 'Pure library: no adapters.' },
          ],
        },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Pure library: time comes in with the signals.' }],
    },
  },
  {
    // Services reach Kafka only through the ports of libs/kafka (docs/decisions/0018-batch-consumer-port-and-one-backoff.md).
    files: ['services/*/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['kafkajs', '**/libs/kafka/src/*'], message: 'Only libs/kafka talks to kafkajs: use the ports of @killtrace/kafka.' }] },
      ],
    },
  },
);
