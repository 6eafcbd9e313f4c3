import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

export type ParsedPhone =
  | { kind: "number"; e164: string; extension: string | undefined }
  /** Caller id withheld: never a contact, but the call is still logged. */
  | { kind: "withheld" }
  /** `client:alice`, `sip:…`: one of our agents or devices, not a customer. */
  | { kind: "internal" }
  /** Anything else: kept raw on the call, never matched. */
  | { kind: "invalid" };

const WITHHELD = new Set(["", "anonymous", "restricted", "unknown", "private", "unavailable", "withheld", "blocked"]);

/**
 * Reads a number as providers and people type it: E.164, national format in the default
 * region, with an extension ("x123", ";ext=123"). The extension is kept apart from the number.
 */
export function parsePhone(raw: string | undefined, defaultRegion: string): ParsedPhone {
  const value = (raw ?? "").trim();
  if (WITHHELD.has(value.toLowerCase()) || /^\+?0*$/.test(value)) {
    return { kind: "withheld" };
  }
  if (/^(client|sip|sips):/i.test(value)) return { kind: "internal" };
  if (value.length > 64 || !/\d/.test(value)) return { kind: "invalid" };
  const parsed = parsePhoneNumberFromString(value, { defaultCountry: defaultRegion as CountryCode, extract: false });
  if (!parsed || !parsed.isPossible()) return { kind: "invalid" };
  return { kind: "number", e164: parsed.number, extension: parsed.ext };
}

/** E.164 of any input, or undefined: for searches ("phone in any format"). */
export function toE164(raw: string | undefined, defaultRegion: string): string | undefined {
  const p = parsePhone(raw, defaultRegion);
  return p.kind === "number" ? p.e164 : undefined;
}
