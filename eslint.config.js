import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/**
 * Layering (README, "Layout"): imports only point down.
 * views -> stores -> host -> model -> {transport, runtime, persistence, workloads} -> core -> protocol.
 * Each layer below gets a rule that names what it may not import; `npm run lint` fails on an
 * import that points up. (src/node is the headless coordinator's shell, beside host; cli/ sits on top.)
 */
const importsOf = (...layers) => layers.flatMap((l) => [`../${l}/*`, `../../${l}/*`, `../../../${l}/*`]);
const OUTER_LAYERS = importsOf('host', 'views', 'stores', 'model', 'node', 'transport', 'runtime', 'persistence', 'workloads');

/**
 * The files that may import peerjs: the glue the browser and Node share (types only), and each
 * platform's own file, which loads peerjs its way.
 */
const PEERJS_FILES = ['src/transport/peerjsEndpoint.ts', 'src/transport/peerjsTransport.ts', 'src/transport/nodeTransport.node.ts'];

/** The libraries only one file each may import (the rule is repeated per layer: a later rule replaces an earlier one). */
const LIBRARY_PATHS = [
  { name: 'peerjs', message: `Only the transport files may import peerjs: ${PEERJS_FILES.join(', ')}.` },
  { name: 'node-datachannel', message: 'Only src/transport/nodeTransport.node.ts may import node-datachannel.' },
  { name: 'node-datachannel/polyfill', message: 'Only src/transport/nodeTransport.node.ts may import node-datachannel.' },
  { name: 'onnxruntime-web', message: 'Only src/runtime/ortEngine.ts may import onnxruntime-web.' },
  { name: 'onnxruntime-node', message: 'Only src/runtime/ortNodeEngine.node.ts may import onnxruntime-node.' },
  { name: 'idb', message: 'Only src/persistence/db.ts may import idb.' },
  { name: 'better-sqlite3', message: 'Only src/persistence/sqliteCoordinatorStore.node.ts may import better-sqlite3.' },
];

/** What the middle layers may not reach up to. */
const UPPER_LAYERS = importsOf('host', 'views', 'stores', 'model', 'node');

/** A layer's import rule: the one-file libraries, plus the layers above it. */
const layerRule = (group, message, extra = []) => ['error', { paths: LIBRARY_PATHS, patterns: [{ group, message }, ...extra] }];

/** The rules that keep code pure: no time, no randomness, no I/O (the core, the protocol, the view model). */
const PURE_RULES = {
  'no-restricted-globals': [
    'error',
    'window',
    'document',
    'localStorage',
    'indexedDB',
    'fetch',
    'setTimeout',
    'setInterval',
    'performance',
    'crypto',
    'navigator',
  ],
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'Pass time in as a parameter.' },
    { object: 'Math', property: 'random', message: 'Pass an Rng in as a parameter.' },
  ],
  'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'Pass time in as a parameter.' }],
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-test/**',
      '.tmp/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'e2e-artifacts/**',
      'public/**',
      'bench/results.json',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Type-aware promise rules: a promise nobody awaits loses its error (an unhandled rejection, a
    // write that failed unseen), and an async callback where a void one is expected runs unawaited.
    // Deliberate fire-and-forget is written `void p` (with a catch where it can fail).
    files: ['**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      'no-restricted-imports': [
        'error',
        {
          paths: LIBRARY_PATHS,
        },
      ],
    },
  },
  {
    // The middle layers serve the hosts; they never import them, their store or their views.
    files: ['src/transport/**/*.ts', 'src/runtime/**/*.ts', 'src/persistence/**/*.ts', 'src/workloads/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': layerRule(
        UPPER_LAYERS,
        'transport/, runtime/, persistence/ and workloads/ do not import model/, host/, node/, stores/ or views/.',
      ),
    },
  },
  {
    // The view model is plain data and pure functions: below the hosts, above the adapters (whose types it may name).
    files: ['src/model/**/*.ts'],
    rules: {
      ...PURE_RULES,
      'no-restricted-imports': layerRule(
        importsOf('host', 'views', 'stores', 'node', 'transport', 'persistence'),
        'model/ is the view model: it imports no host, store, view or adapter.',
        [
          { group: importsOf('runtime'), allowTypeImports: true, message: 'model/ may name runtime/ types, not run it.' },
          { group: ['react', 'react-dom', 'zustand', 'peerjs', 'onnxruntime-web', 'idb'], message: 'model/ is plain data: no UI or I/O library.' },
        ],
      ),
    },
  },
  {
    // Hosts tell the UI what changed through the ViewPorts they are given (model/viewPort.ts), never the store.
    files: ['src/host/**/*.ts', 'src/node/**/*.ts'],
    rules: {
      'no-restricted-imports': layerRule(
        importsOf('stores', 'views'),
        'host/ and node/ do not import stores/ or views/: write what the page shows through a ViewPort.',
      ),
    },
  },
  {
    files: ['src/stores/**/*.ts'],
    rules: { 'no-restricted-imports': layerRule(importsOf('views'), 'stores/ do not import views/.') },
  },
  { files: PEERJS_FILES, rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/runtime/ortEngine.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/runtime/ortNodeEngine.node.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/persistence/db.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['src/persistence/sqliteCoordinatorStore.node.ts'], rules: { 'no-restricted-imports': 'off' } },
  {
    // The pure core: no time, no randomness, no I/O, no outer layers. The voice-activity
    // pipeline's arithmetic runs in volunteers and in the Node reference alike, so it is held to the same.
    files: ['src/core/**/*.ts', 'src/protocol/**/*.ts', 'src/workloads/vad/**/*.ts'],
    rules: {
      ...PURE_RULES,
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...OUTER_LAYERS, 'peerjs', 'onnxruntime-web', 'idb', 'react', 'react-dom', 'zustand'],
              message: 'core/ and protocol/ are pure: they import nothing from outer layers.',
            },
          ],
        },
      ],
    },
  },
);
