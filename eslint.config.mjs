// ESLint (flat config) with typescript-eslint's recommended rules; Prettier owns the layout, so no
// stylistic rules here. `npm run lint` runs both; .ci/run runs it before the tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      // `_`-prefixed names are deliberately unused (destructuring that drops a field, kept parameters).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Low-level errors are rewritten on purpose into one sentence an operator can act on, with the
      // original message inside it; a `cause` would also travel into Temporal failures and CLI output.
      'preserve-caught-error': 'off',
    },
  },
  {
    // Tests read loosely typed JSON (CLI --json output, histories) and match terminal output with
    // ANSI escapes and aligned columns, which these rules would only make harder to read.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-control-regex': 'off', 'no-regex-spaces': 'off' },
  },
  {
    // Plain CommonJS scripts (scripts/*.js and the like) may require().
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
