import { Writable } from "node:stream";
import { createLogger, maskPhones } from "../../src/platform/logger";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { log: createLogger("info", stream), lines };
}

describe("logger", () => {
  it("masks E.164 numbers in messages and phone-named fields, keeping the last four digits", () => {
    const { log, lines } = capture();
    log.info({ from: "+359888123456", call: { to: "(415) 555-0100" }, dueAt: "2026-11-26T17:36:00Z" }, "call from +14155550100");
    const line = JSON.parse(lines[0]!);
    expect(line.msg).toBe("call from +***0100");
    expect(line.from).toBe("***3456");
    expect(line.call.to).toBe("***0100");
    expect(line.dueAt).toBe("2026-11-26T17:36:00Z");
    expect(lines[0]).not.toContain("888123456");
  });

  it("redacts credentials", () => {
    const { log, lines } = capture();
    log.info({ req: { headers: { authorization: "Bearer abc" } }, body: { password: "p" } }, "x");
    expect(lines[0]).not.toContain("abc");
    expect(lines[0]).not.toContain('"p"');
  });

  it("maskPhones leaves short digit runs and dates alone", () => {
    expect(maskPhones("attempt 3 on 2026-11-26, ext 1234")).toBe("attempt 3 on 2026-11-26, ext 1234");
  });
});
