import { execFileSync } from "node:child_process";
import { documentedRoutes } from "../../src/openapi";
import { startTestService, type TestService } from "../support/test-service";

let svc: TestService;

beforeAll(async () => {
  svc = await startTestService({ role: "web" });
});
afterAll(async () => svc?.close());

describe("GET /api/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const res = await svc.http.get("/api/openapi.json").expect(200);
    expect(res.body.openapi).toBe("3.1.0");
    // The validator is an ES module: it runs in a plain Node process (jest here loads CommonJS).
    const script = `import("@seriousme/openapi-schema-validator").then(async ({ Validator }) => {
      const doc = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
      process.stdout.write(JSON.stringify(await new Validator().validate(doc)));
    });`;
    const result = JSON.parse(execFileSync(process.execPath, ["-e", script], { input: JSON.stringify(res.body) }).toString());
    expect(result).toEqual({ valid: true });
  });

  it("documents request bodies from the schemas the routes validate with", async () => {
    const doc = (await svc.http.get("/api/openapi.json").expect(200)).body;
    const createUser = doc.paths["/api/users"].post.requestBody.content["application/json"].schema;
    expect(createUser).toMatchObject({ type: "object", additionalProperties: false, required: expect.arrayContaining(["email", "password", "role"]) });
    expect(createUser.properties.role.enum).toEqual(["agent", "supervisor", "marketer", "admin"]);
    const params = doc.paths["/api/calls"].get.parameters.map((p: { name: string }) => p.name);
    expect(params).toEqual(expect.arrayContaining(["contactId", "outcome", "limit", "cursor"]));
  });

  it("lists only routes the service serves", async () => {
    for (const { method, path } of documentedRoutes()) {
      const concrete = path.replace("{provider}", "generic").replace("{id}", "00000000-0000-4000-8000-000000000000");
      const res = await (svc.http as unknown as Record<string, (p: string) => import("supertest").Test>)[method]!(concrete).set("content-type", "application/json").send("{}");
      // An unknown route answers 404 with code not_found and a "no route" message.
      const unrouted = res.status === 404 && /no route/i.test(res.body?.error?.message ?? "");
      expect({ method, path, unrouted }).toEqual({ method, path, unrouted: false });
    }
  });
});
