import { z } from "zod";
import { AppError, httpStatusOf } from "../../src/platform/errors";
import { toAppError } from "../../src/platform/http/errors";

describe("toAppError", () => {
  it.each([
    ["an unreachable database", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }), "unavailable", 503],
    ["a terminated backend (via TypeORM)", Object.assign(new Error("terminating connection"), { driverError: { code: "57P01" } }), "unavailable", 503],
    ["a pool that cannot connect in time", new Error("timeout exceeded when trying to connect"), "unavailable", 503],
    ["Redis gone", new Error("Connection is closed."), "unavailable", 503],
    ["a bug", new TypeError("x is undefined"), "internal", 500],
    ["a SQL mistake", Object.assign(new Error("syntax error"), { code: "42601" }), "internal", 500],
    ["a NUL character PostgreSQL refuses (via TypeORM)", Object.assign(new Error("invalid byte sequence for encoding UTF8: 0x00"), { driverError: { code: "22021" } }), "validation_failed", 400],
    ["a body parser's malformed JSON", Object.assign(new Error("Unexpected token"), { type: "entity.parse.failed", status: 400 }), "malformed_json", 400],
    ["a too large body", Object.assign(new Error("too large"), { type: "entity.too.large", status: 413 }), "payload_too_large", 413],
  ])("maps %s to %s (%i)", (_what, err, code, status) => {
    const e = toAppError(err);
    expect(e.code).toBe(code);
    expect(httpStatusOf(e.code)).toBe(status);
  });

  it("keeps AppErrors and turns zod errors into validation_failed naming the field", () => {
    const own = new AppError("conflict", "exists");
    expect(toAppError(own)).toBe(own);
    const parsed = z.object({ email: z.email() }).safeParse({ email: "nope" });
    const e = toAppError(parsed.error);
    expect(e.code).toBe("validation_failed");
    expect(e.message).toMatch(/^email: /);
  });
});
