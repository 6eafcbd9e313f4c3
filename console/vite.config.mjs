// The console is a static bundle served by the service at `/` (npm run build → dist/console).
// `npx vite console` serves it with hot reload against a service running on :3000.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const service = process.env.CONSOLE_API ?? "http://localhost:3000";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
  },
  server: { proxy: { "/api": service, "/socket.io": { target: service, ws: true } } },
});
