import { openApiDocument } from "../../src/openapi";
import { startTestService, type TestService } from "../support/test-service";

const ROLES = ["agent", "supervisor", "marketer", "admin"] as const;
type Role = (typeof ROLES)[number];

let svc: TestService;
const tokens = {} as Record<Role, string>;

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
  for (const role of ROLES) tokens[role] = (await svc.signIn(role)).token;
});
afterAll(async () => svc?.close());

/** Every authenticated operation of the OpenAPI document, with the roles it names. */
const operations = Object.entries(openApiDocument().paths as Record<string, Record<string, { "x-roles"?: Role[] }>>).flatMap(([path, ops]) =>
  Object.entries(ops)
    .filter(([, op]) => op["x-roles"])
    .map(([method, op]) => ({ method, path, roles: op["x-roles"]! })),
);

describe("the role × route matrix (from the OpenAPI document)", () => {
  it("covers the API", () => {
    expect(operations.length).toBeGreaterThan(20);
  });

  it.each(operations)("$method $path: refused to other roles with 403, never 401/403 for $roles", async ({ method, path, roles }) => {
    const concrete = path.replace("{id}", "00000000-0000-4000-8000-000000000000");
    for (const role of ROLES) {
      const res = await (svc.http as unknown as Record<string, (p: string) => import("supertest").Test>)[method]!(concrete)
        .set("authorization", `Bearer ${tokens[role]}`)
        .set("content-type", "application/json")
        .send("{}");
      const allowed = roles.includes(role);
      // An allowed role may still get 400 (an empty body) or 404 (no such object), never a refusal.
      expect({ role, status: res.status === 403 || res.status === 401 ? "refused" : "let through" }).toEqual({ role, status: allowed ? "let through" : "refused" });
      if (!allowed) expect(res.body.error.code).toBe("forbidden");
    }
  });
});
