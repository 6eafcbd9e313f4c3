import { displayOf, parsePhone, toE164 } from "../../src/crm";

describe("parsePhone", () => {
  it("reads E.164, national numbers in the default region, and keeps the extension apart", () => {
    expect(parsePhone("+1 (415) 555-0100", "US")).toEqual({ kind: "number", e164: "+14155550100", extension: undefined, display: "+1 415 555 0100" });
    expect(parsePhone("020 7946 0958", "GB")).toEqual({ kind: "number", e164: "+442079460958", extension: undefined, display: "+44 20 7946 0958" });
    expect(parsePhone("+14155550100 x123", "US")).toMatchObject({ kind: "number", e164: "+14155550100", extension: "123" });
  });

  it("tells withheld, internal and invalid input apart", () => {
    for (const raw of ["", " anonymous ", "Restricted", "unknown", "+000", undefined]) expect(parsePhone(raw, "US")).toEqual({ kind: "withheld" });
    expect(parsePhone("client:alice", "US")).toEqual({ kind: "internal" });
    expect(parsePhone("sip:100@pbx.example", "US")).toEqual({ kind: "internal" });
    for (const raw of ["not a number", "12", "9".repeat(65)]) expect(parsePhone(raw, "US")).toEqual({ kind: "invalid" });
    // Over-long but all zeros: withheld, as before the cache (over-long input is not cached).
    expect(parsePhone("0".repeat(70), "US")).toEqual({ kind: "withheld" });
  });

  it("answers a repeated number from its cache, per region, with a result no caller can change", () => {
    const first = parsePhone("(415) 555-0123", "US");
    expect(parsePhone(" (415) 555-0123 ", "US")).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => Object.assign(first, { kind: "invalid" })).toThrow(TypeError);
    // The same digits read in another region are another number.
    expect(toE164("020 7946 0958", "GB")).toBe("+442079460958");
    expect(toE164("020 7946 0958", "US")).toBeUndefined();
    // E.164 is the same number in every region: one entry.
    expect(parsePhone("+442079460958", "US")).toBe(parsePhone("+442079460958", "GB"));
  });

  it("formats an E.164 number for people, whatever the default region", () => {
    expect(displayOf("+442079460958")).toBe("+44 20 7946 0958");
    expect(displayOf("+14155550100")).toBe("+1 415 555 0100");
    expect(displayOf("+1")).toBe("+1");
  });
});
