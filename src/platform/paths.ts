import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

let root: string | undefined;

/**
 * The project's root (where package.json is), the same whether code runs from src/ under the
 * tests or from dist/src/ in production: files shipped beside the code (public/) are found from it.
 */
export function projectRoot(): string {
  if (root) return root;
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("package.json not found above " + __dirname);
    dir = up;
  }
  return (root = dir);
}

export const publicFile = (name: string): string => join(projectRoot(), "public", name);
