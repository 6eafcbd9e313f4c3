import type { Test } from "supertest";
import type { TestService } from "./test-service";

/** Requests to the service as the holder of `token`. */
export function as(svc: TestService, token: string) {
  const send = (method: "post" | "patch" | "put", path: string, body?: unknown) => svc.http[method](path).set("authorization", `Bearer ${token}`).send(body as object);
  return {
    get: (path: string): Test => svc.http.get(path).set("authorization", `Bearer ${token}`),
    delete: (path: string): Test => svc.http.delete(path).set("authorization", `Bearer ${token}`),
    post: (path: string, body?: unknown): Test => send("post", path, body),
    patch: (path: string, body?: unknown): Test => send("patch", path, body),
    put: (path: string, body?: unknown): Test => send("put", path, body),
  };
}
