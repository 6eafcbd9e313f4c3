import pino, { type Logger } from "pino";

export type { Logger };

/**
 * Phone numbers are personal data. In logs an E.164 number anywhere in a string, and any value
 * under a key that names a phone, keep only their last 4 digits. Dates and ids are left alone,
 * which a "mask every digit run" rule would not do.
 */
const E164_PATTERN = /\+\d{7,15}\b/g;
const PHONE_KEYS = /^(from|to|phone|phones|number|caller|called|callerid|dialtarget|forwardedfrom|raw)$/i;

function lastFour(value: string): string {
  const digits = value.replace(/\D/g, "");
  return digits.length < 5 ? "***" : `***${digits.slice(-4)}`;
}

export function maskPhones(text: string): string {
  return text.replace(E164_PATTERN, (m) => `+${lastFour(m)}`);
}

function maskDeep(value: unknown, key = "", depth = 0): unknown {
  if (depth > 6) return value;
  if (typeof value === "string") return PHONE_KEYS.test(key) ? lastFour(value) : maskPhones(value);
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, key, depth + 1));
  if (value && typeof value === "object" && !(value instanceof Error)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskDeep(v, k, depth + 1);
    return out;
  }
  return value;
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "callcenter-crm" },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["req.headers.authorization", "req.headers.cookie", "*.password", "*.token"], censor: "[redacted]" },
      formatters: { log: (obj) => maskDeep(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === "string" ? maskPhones(a) : a));
          return method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
