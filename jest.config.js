/** Tests run TypeScript through swc (fast, keeps decorator metadata); `npm run typecheck` runs tsc. */
const swc = {
  jsc: {
    parser: { syntax: "typescript", decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: "es2022",
  },
  module: { type: "commonjs" },
  sourceMaps: "inline",
};

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", swc] },
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  globalTeardown: "<rootDir>/test/support/global-teardown.ts",
  setupFiles: ["<rootDir>/test/support/setup-file.ts"],
  testTimeout: 30000,
  maxWorkers: 2,
  // A worker grows with each test file it runs (1.5 GB by the end of a whole run), and a process
  // that large takes over half a second to end once its event loop is empty: longer than Jest
  // waits before killing it and warning of "tests leaking due to improper teardown". No handle was
  // left open (the worker's loop emptied 1-3 ms after Jest's end message). Restarting a worker
  // that holds more than this after a file keeps every worker's end well under that limit.
  workerIdleMemoryLimit: "600MB",
};
