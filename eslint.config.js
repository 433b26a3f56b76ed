// Lint rules that keep the architecture honest (STYLE.md §1, §8): type-aware checks, no import
// cycles, and per-folder limits on what each component may import.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX from "eslint-plugin-import-x";

const components = [
  "core",
  "config",
  "gguf",
  "gpu",
  "models",
  "engine",
  "scheduler",
  "api",
  "cli",
  "app",
  "ops",
  "store",
  "workspace",
  "cluster",
];

/** What each folder under src/ may import, besides itself. */
const allowed = {
  core: [],
  config: ["core"],
  gguf: ["core"],
  gpu: ["core", "gguf"],
  models: ["core", "gguf"],
  engine: ["core", "gguf", "gpu"],
  scheduler: ["core", "gguf", "gpu", "engine", "models"],
  api: ["core", "config", "scheduler", "models"],
  store: ["core"],
  ops: ["core", "store"],
  workspace: ["core"],
  // Several nodes as one server (issue #18): an adapter around the Scheduler interface.
  cluster: ["core", "scheduler"],
  // The CLI is a client of the HTTP API; `serve` alone boots the composition root; `keys`
  // manages the keys in the state database directly, and `audit` reads ops offline, both with
  // or without a server (ARCHITECTURE: the rest use the HTTP client or ops/ offline).
  cli: ["core", "config", "gguf", "models", "app", "store", "ops"],
  app: components.filter((name) => name !== "app"),
};

// Time: every clock reading and timer goes through the TimePort (src/core/time.ts), so fake time
// can drive it in tests and monotonic and wall readings cannot be confused (issue #9).
const timeMessage =
  "Read time and set timers through the TimePort in src/core/time.ts: inject one (default systemTime), use FakeTime in tests.";
const timerGlobals = ["setTimeout", "setInterval", "clearTimeout", "clearInterval", "setImmediate"];
const timerModules = ["node:timers", "node:timers/promises", "timers", "timers/promises"].map((name) => ({
  name,
  message: timeMessage,
}));
const timeRules = {
  "no-restricted-globals": ["error", ...timerGlobals.map((name) => ({ name, message: timeMessage }))],
  "no-restricted-properties": [
    "error",
    { object: "Date", property: "now", message: timeMessage },
    { object: "performance", property: "now", message: timeMessage },
    ...timerGlobals.map((property) => ({ object: "globalThis", property, message: timeMessage })),
  ],
  "no-restricted-syntax": [
    "error",
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: timeMessage },
  ],
};
const timePortImplementation = ["src/core/time.ts", "src/core/fake-time.ts"];

/** The boundary rule of one src/ folder; it also forbids the timer modules outside the time-port exemptions. */
function boundary(folder) {
  const forbidden = components.filter((name) => name !== folder && !allowed[folder].includes(name));
  const importRule = (timerPaths) => [
    "error",
    {
      patterns: [
        ...forbidden.map((name) => ({
          group: [`**/${name}/*`, `**/${name}`],
          message: `src/${folder} may not import src/${name} (see STYLE.md §1).`,
        })),
        {
          regex: `^(\\.\\./)+(${components.join("|")})/(?!index\\.js$)`,
          message: "Import another component through its index.js only.",
        },
      ],
      ...(timerPaths === undefined ? {} : { paths: timerPaths }),
    },
  ];
  const exempt = timePortImplementation.filter((path) => path.startsWith(`src/${folder}/`));
  return [
    {
      files: [`src/${folder}/**/*.ts`],
      ignores: exempt,
      rules: { "no-restricted-imports": importRule(timerModules) },
    },
    ...(exempt.length === 0 ? [] : [{ files: exempt, rules: { "no-restricted-imports": importRule() } }]),
  ];
}

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "dist/**",
      "bench/results/**",
      "bench/.llama.cpp/**",
      "web/**/*.js",
      "web/dist/**",
      "test-artifacts/**",
      "bin/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    plugins: { "import-x": importX },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/require-await": "off",
      "max-params": ["error", 3],
      // Channels and semaphores re-raise whatever their producer failed with.
      "@typescript-eslint/prefer-promise-reject-errors": "off",
      "import-x/no-cycle": "error",
    },
  },
  ...Object.keys(allowed).flatMap(boundary),
  // src/ folders get the timer modules in their boundary rule (one no-restricted-imports each).
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { paths: timerModules }] },
  },
  {
    files: ["src/**/*.ts", "test/**/*.ts", "bench/**/*.ts"],
    ignores: timePortImplementation,
    rules: timeRules,
  },
  { files: ["*.js"], ...tseslint.configs.disableTypeChecked },
  {
    files: ["**/*.test.ts", "test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
