import { createHmac } from "node:crypto";
import { AppError } from "../../src/platform/errors";
import { decodeStandardWebhookSecret, signStandardWebhook, verifyStandardWebhook } from "../../src/platform/standard-webhooks";

// The vector of the Standard Webhooks reference JavaScript library's own tests
// (libraries/javascript/src/webhook.test.ts, "sign function works").
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS = 1614265330;
const PAYLOAD = '{"test": 2432232314}';
const EXPECTED = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
// Another valid-looking (44-character) v1 signature from the same tests, for rotation cases.
const OTHER_SIG = "Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
const OTHER_SECRET = "whsec_" + Buffer.alloc(32, 7).toString("base64");

const at = (unixSeconds: number) => new Date(unixSeconds * 1000);
const NOW = at(TS);

const headers = (over: Record<string, string | string[] | undefined> = {}) => ({
  "webhook-id": MSG_ID,
  "webhook-timestamp": String(TS),
  "webhook-signature": EXPECTED,
  ...over,
});

/** Runs fn and returns what it threw (failing the test if it threw nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

const expectBadSignature = (fn: () => unknown, message?: RegExp) => {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe("bad_signature");
  if (message) expect((err as AppError).message).toMatch(message);
};

describe("signStandardWebhook", () => {
  it("when signing the spec vector, then it yields the spec's signature", () => {
    expect(signStandardWebhook(SECRET, MSG_ID, at(TS), PAYLOAD)).toBe(EXPECTED);
  });

  it("when the secret has no whsec_ prefix, then it signs the same", () => {
    expect(signStandardWebhook(SECRET.slice("whsec_".length), MSG_ID, at(TS), PAYLOAD)).toBe(EXPECTED);
  });

  it("when the timestamp has milliseconds, then they are dropped (unix seconds are signed)", () => {
    expect(signStandardWebhook(SECRET, MSG_ID, new Date(TS * 1000 + 999), PAYLOAD)).toBe(EXPECTED);
  });
});

describe("verifyStandardWebhook", () => {
  it("when given the spec vector, then it verifies and returns the id and timestamp", () => {
    expect(verifyStandardWebhook(SECRET, headers(), PAYLOAD, NOW)).toEqual({ id: MSG_ID, timestamp: at(TS) });
  });

  it("when the body is a Buffer of the same bytes, then it verifies", () => {
    expect(verifyStandardWebhook(SECRET, headers(), Buffer.from(PAYLOAD), NOW).id).toBe(MSG_ID);
  });

  it("when the body is not UTF-8, then the signature covers its exact bytes", () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]);
    const sig = createSig(body);
    expect(verifyStandardWebhook(SECRET, headers({ "webhook-signature": sig }), body, NOW).id).toBe(MSG_ID);
    expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-signature": sig }), Buffer.from([0x7b, 0xff, 0xfd, 0x00, 0x7d]), NOW));
  });

  it("when header names are in another case, then they are still found", () => {
    const h = { "Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": String(TS), "Webhook-Signature": EXPECTED };
    expect(verifyStandardWebhook(SECRET, h, PAYLOAD, NOW).id).toBe(MSG_ID);
  });

  it("when signed and verified with our own signer, then it round-trips", () => {
    const body = JSON.stringify({ callId: "c1", note: "ünïcödé ☎" });
    const sig = signStandardWebhook(SECRET, "evt_1", at(TS), body);
    expect(verifyStandardWebhook(SECRET, { "webhook-id": "evt_1", "webhook-timestamp": String(TS), "webhook-signature": sig }, body, NOW).id).toBe("evt_1");
  });

  describe("tampering", () => {
    it("when the secret is wrong, then it fails", () => {
      expectBadSignature(() => verifyStandardWebhook(OTHER_SECRET, headers(), PAYLOAD, NOW), /No valid v1 signature/);
    });

    it("when the body is tampered with, then it fails", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers(), '{"test": 2432232315}', NOW));
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers(), PAYLOAD + " ", NOW));
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers(), '{"test":2432232314}', NOW));
    });

    it("when the id is tampered with, then it fails", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-id": MSG_ID + "x" }), PAYLOAD, NOW));
    });

    it("when the timestamp is tampered with (still within tolerance), then it fails", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-timestamp": String(TS + 1) }), PAYLOAD, NOW), /No valid v1 signature/);
    });

    it("when the signature is truncated or empty after v1, then it fails", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-signature": EXPECTED.slice(0, 8) }), PAYLOAD, NOW));
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-signature": "v1," }), PAYLOAD, NOW));
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-signature": EXPECTED.slice(0, -1) }), PAYLOAD, NOW));
    });
  });

  describe("timestamp tolerance (5 minutes either way)", () => {
    const signedAt = (unixSeconds: number) =>
      headers({ "webhook-timestamp": String(unixSeconds), "webhook-signature": signStandardWebhook(SECRET, MSG_ID, at(unixSeconds), PAYLOAD) });

    it("when the timestamp is 6 minutes old, then it fails as too old", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, signedAt(TS - 360), PAYLOAD, NOW), /too old/);
    });

    it("when the timestamp is 6 minutes in the future, then it fails as too new", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, signedAt(TS + 360), PAYLOAD, NOW), /future/);
    });

    it("when the timestamp is exactly 5 minutes old or ahead, then it passes", () => {
      expect(verifyStandardWebhook(SECRET, signedAt(TS - 300), PAYLOAD, NOW).timestamp).toEqual(at(TS - 300));
      expect(verifyStandardWebhook(SECRET, signedAt(TS + 300), PAYLOAD, NOW).timestamp).toEqual(at(TS + 300));
    });

    it("when the spec vector is checked 6 minutes after it was signed, then it fails", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers(), PAYLOAD, at(TS + 360)), /too old/);
    });

    it("when the timestamp is not numeric, then it fails without trying the signature", () => {
      for (const ts of ["hello", "1614265330abc", "1614265330.5", "-1614265330", " ", "1e9", "0x603"]) {
        expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-timestamp": ts }), PAYLOAD, NOW), /timestamp/);
      }
    });
  });

  describe("several signatures (key rotation)", () => {
    it("when one of several v1 signatures is valid, then it passes", () => {
      const sig = [`v1,${OTHER_SIG}`, `v2,${OTHER_SIG}`, EXPECTED, `v1,${OTHER_SIG}`].join(" ");
      expect(verifyStandardWebhook(SECRET, headers({ "webhook-signature": sig }), PAYLOAD, NOW).id).toBe(MSG_ID);
    });

    it("when signed with the old and the new secret, then a receiver with either secret accepts", () => {
      const sig = `${signStandardWebhook(OTHER_SECRET, MSG_ID, at(TS), PAYLOAD)} ${EXPECTED}`;
      expect(verifyStandardWebhook(SECRET, headers({ "webhook-signature": sig }), PAYLOAD, NOW).id).toBe(MSG_ID);
      expect(verifyStandardWebhook(OTHER_SECRET, headers({ "webhook-signature": sig }), PAYLOAD, NOW).id).toBe(MSG_ID);
    });

    it("when the right signature is labelled v2 (or v1a), then it is ignored and verification fails", () => {
      const hash = EXPECTED.slice("v1,".length);
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-signature": `v2,${hash}` }), PAYLOAD, NOW));
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-signature": `v1a,${hash} v2,${hash}` }), PAYLOAD, NOW));
    });

    it("when the header is repeated (an array from the HTTP layer), then its entries are all considered", () => {
      expect(verifyStandardWebhook(SECRET, headers({ "webhook-signature": [`v1,${OTHER_SIG}`, EXPECTED] }), PAYLOAD, NOW).id).toBe(MSG_ID);
    });

    it("when entries are separated by several spaces, then it still passes", () => {
      expect(verifyStandardWebhook(SECRET, headers({ "webhook-signature": `v1,${OTHER_SIG}   ${EXPECTED} ` }), PAYLOAD, NOW).id).toBe(MSG_ID);
    });
  });

  describe("missing or malformed headers", () => {
    it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])("when %s is missing, then it fails naming it", (name) => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ [name]: undefined }), PAYLOAD, NOW), new RegExp(`Missing ${name}`));
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ [name]: "" }), PAYLOAD, NOW), new RegExp(`Missing ${name}`));
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ [name]: [] }), PAYLOAD, NOW), new RegExp(`Missing ${name}`));
    });

    it("when there are no headers at all, then it fails", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, {}, PAYLOAD, NOW), /Missing webhook-id/);
    });

    it("when the id contains a '.', a space or is over-long, then it fails (the spec forbids '.' in ids)", () => {
      for (const id of ["1614265330.123", "a b", "x".repeat(201), "évt"]) {
        expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-id": id }), PAYLOAD, NOW), /webhook-id/);
      }
    });

    it("when webhook-id is sent twice with different values, then it fails", () => {
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-id": [MSG_ID, "msg_other"] }), PAYLOAD, NOW), /Several/);
    });

    it("when webhook-id is sent twice with the same value, then it passes", () => {
      expect(verifyStandardWebhook(SECRET, headers({ "webhook-id": [MSG_ID, MSG_ID] }), PAYLOAD, NOW).id).toBe(MSG_ID);
    });

    it("when the signature header is huge, then it fails without work", () => {
      const sig = Array.from({ length: 200 }, () => `v1,${OTHER_SIG}`).join(" ");
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers({ "webhook-signature": sig }), PAYLOAD, NOW), /too long/);
    });

    it("when headers are garbage, then only AppError(bad_signature) is thrown", () => {
      const garbage: Array<Record<string, string | string[] | undefined>> = [
        headers({ "webhook-signature": "garbage" }),
        headers({ "webhook-signature": ",,,, v1 v1, ,v1 ," }),
        headers({ "webhook-signature": "v1,\u0000\u00ff\ud800" }),
        headers({ "webhook-signature": `v1,${"A".repeat(44)}` }),
        headers({ "webhook-signature": "v1,!!!!not-base64!!!!" }),
        headers({ "webhook-id": "\u0000", "webhook-timestamp": "\u00ff", "webhook-signature": "\ud800" }),
        headers({ "webhook-timestamp": "9".repeat(400) }),
        headers({ "webhook-timestamp": ["1", "2"] }),
        { __proto__: "x", constructor: "y" } as unknown as Record<string, string>,
      ];
      for (const h of garbage) expectBadSignature(() => verifyStandardWebhook(SECRET, h, PAYLOAD, NOW));
      expectBadSignature(() => verifyStandardWebhook(SECRET, null as unknown as Record<string, string>, PAYLOAD, NOW));
      expectBadSignature(() => verifyStandardWebhook(SECRET, headers(), undefined as unknown as string, NOW));
    });
  });

  describe("the secret (our configuration, not the caller's input)", () => {
    it.each(["", "whsec_", "whsec_not base64!", "whsec_c2hvcnQ=", "whsec_" + Buffer.alloc(11).toString("base64"), undefined as unknown as string])(
      "when the secret is %p, then it is provider_not_configured, not bad_signature",
      (secret) => {
        const err = thrown(() => verifyStandardWebhook(secret, headers(), PAYLOAD, NOW));
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe("provider_not_configured");
        expect((err as AppError).message).toMatch(/whsec_/);
      },
    );

    it("when the secret is unpadded base64, then it decodes like the padded form", () => {
      const key = Buffer.alloc(16, 9).toString("base64"); // 24 characters, ends in "=="
      expect(decodeStandardWebhookSecret(`whsec_${key.replace(/=+$/, "")}`)).toEqual(decodeStandardWebhookSecret(`whsec_${key}`));
    });

    it("when the secret is valid, then it decodes to the key bytes", () => {
      expect(decodeStandardWebhookSecret(SECRET)).toEqual(Buffer.from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64"));
    });
  });
});

function createSig(body: Buffer): string {
  // Independent of the module under test: HMAC over id.ts. followed by the raw bytes.
  const key = Buffer.from(SECRET.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", key).update(`${MSG_ID}.${TS}.`).update(body).digest("base64")}`;
}
