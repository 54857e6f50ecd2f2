// ESLint flat config: typescript-eslint's type-aware recommended rules over every
// TypeScript folder (src, client, web, bench, scripts, test), with formatting left
// to Prettier (eslint-config-prettier, last, turns off the rules it would fight).
// Types come from the nearest tsconfig.json (projectService): web/ has its own
// (DOM, no Node), everything else is in the root one; the few .js/.mjs files are
// checked in a default project. Every rule turned off or relaxed says why.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'src/generated/', 'node_modules/', '.data/', 'coverage/', '.scratch/', 'bench/results/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'test/support/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Fire-and-forget is written `void promise` on purpose; any other promise left floating is a bug.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // From strictTypeChecked, the two that are cheap here: `void` only discards a value (so it keeps meaning "promise dropped on purpose"), and no deprecated APIs.
      '@typescript-eslint/no-meaningless-void-operator': 'error',
      '@typescript-eslint/no-deprecated': 'error',
      // `const { dropped, ...rest } = x` is how the code omits a key; `_`-prefixed names are unused on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      // Off: `async` without `await` is deliberate, to implement Promise-returning interfaces and to turn a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // Off: `const self = this` is how a `function` that Engine.IO/Socket.IO calls with its own `this` reaches ours.
      '@typescript-eslint/no-this-alias': 'off',
      // Off: comma sequences are used as statements on purpose (`if (gone) (n++, emit())`); tsc already rejects a side-effect-free left operand.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
  {
    // Tests read JSON bodies, socket payloads and mocks as `any`; expect() checks their shape at run time.
    files: ['test/**', '**/*.spec.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  prettier,
);
