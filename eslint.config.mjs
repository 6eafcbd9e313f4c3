// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const COMPONENTS = ["webhooks", "telephony", "crm", "realtime", "tracking"];

/**
 * Component boundaries: a component is reached only through its index. From inside component
 * X, importing `../Y/anything` (Y ≠ X) is an error; `../Y` (the index) is fine. Platform code
 * imports no component at all.
 */
const boundaryRules = COMPONENTS.map((self) => ({
  files: [`src/${self}/**/*.ts`],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: COMPONENTS.filter((c) => c !== self).map((other) => ({
          group: [`**/${other}/*`, `!**/${other}/index`],
          message: `Import ${other} through its index ("../${other}"), not its internals.`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "coverage/**", "console/dist/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { require: "readonly", module: "writable", process: "readonly", __dirname: "readonly", console: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  ...boundaryRules,
  {
    files: ["src/platform/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: COMPONENTS.map((c) => `**/${c}`).concat(COMPONENTS.map((c) => `**/${c}/*`)), message: "Platform code must not depend on components." }] },
      ],
    },
  },
  {
    files: ["scripts/**/*.js", "bench/**/*.js", "test/faults/**/*.js"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { URL: "readonly", URLSearchParams: "readonly", fetch: "readonly", setTimeout: "readonly", clearTimeout: "readonly", Buffer: "readonly", performance: "readonly", TextEncoder: "readonly", AbortSignal: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["console/vite.config.mjs"],
    languageOptions: { globals: { URL: "readonly" } },
  },
  {
    // Runs in visitors' browsers, as written: no build step, no modules.
    files: ["public/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: {
        window: "readonly", document: "readonly", location: "readonly", localStorage: "readonly", fetch: "readonly", URL: "readonly",
        MutationObserver: "readonly", NodeFilter: "readonly", AbortController: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly",
      },
    },
    rules: { "no-var": "off", "@typescript-eslint/no-unused-vars": ["error", { caughtErrors: "none" }] },
  },
);
