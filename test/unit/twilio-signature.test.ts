import express from "express";
import request from "supertest";
import twilio from "twilio";
import { errorHandler } from "../../src/platform/http/errors";
import { createLogger } from "../../src/platform/logger";
import { verifyTwilioSignature } from "../../src/webhooks/twilio-signature";

// Vectors from twilio-node's own validation tests.
const token = "12345";
const requestUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
const params = { CallSid: "CA1234567890ABCDE", Caller: "+14158675309", Digits: "1234", From: "+14158675309", To: "+18005551212" };

describe("twilio.validateRequest (the validator we rely on) against twilio-node's vectors", () => {
  it.each([
    [requestUrl, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true],
    [requestUrl, params, "WRONG_SIGNATURE", false],
    ["https://mycompany.com:1234/myapp.php?foo=1&bar=2", params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", true],
    ["http://mycompany.com:1234/myapp.php?foo=1&bar=2", params, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true],
    [requestUrl, params, "kvajT1Ptam85bY51eRf/AJRuM3w=", true],
    ["https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", params, "CukzLTc1tT5dXEDIHm/tKBanW10=", true],
    [`${requestUrl}&Body=It's+amazing`, params, "TfZzewPq8wqrGlMfyAud8+/IvJ0=", true],
    [requestUrl, { "MessagingBinding.Address": ["+1325xxxxxxx", "+1415xxxxxxx"] }, "83O6e2vORAoJHUNzJjDWN1jz+BA=", true],
    [requestUrl, { Sid: "CA123", SidAccount: "AC123", Digits: ["5678", "1234", "1234"] }, "IK+Dwps556ElfBT0I3Rgjkr1wJU=", true],
  ] as const)("%s with %j and %s → %s", (url, p, signature, expected) => {
    expect(twilio.validateRequest(token, signature, url, p as Record<string, unknown>)).toBe(expected);
  });
});

describe("verifyTwilioSignature middleware", () => {
  const app = (publicUrl: string, authToken: string | undefined = token) => {
    const a = express();
    a.post("/myapp.php", express.urlencoded({ extended: false }), verifyTwilioSignature({ publicUrl, authToken }), (_req, res) => {
      res.status(204).end();
    });
    a.use(errorHandler(createLogger("silent")));
    return a;
  };
  const post = (a: express.Express, path: string, signature?: string) => {
    const r = request(a).post(path).type("form");
    if (signature) r.set("x-twilio-signature", signature);
    return r.send(params);
  };

  it("accepts the vector when PUBLIC_URL + the original path and query are what Twilio signed, whatever Host says", async () => {
    await post(app("https://mycompany.com"), "/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=").set("host", "10.0.0.7:3000").expect(204);
  });

  it("refuses an extra query parameter (the URL differs from what was signed)", async () => {
    await post(app("https://mycompany.com"), "/myapp.php?foo=1&bar=2&somethingUnexpected=true", "RSOYDt4T1cUTdK1PDd93/VVr8B8=").expect(403);
  });

  it("refuses when PUBLIC_URL is not the URL Twilio called", async () => {
    await post(app("https://other.example.com"), "/myapp.php?foo=1&bar=2", "RSOYDt4T1cUTdK1PDd93/VVr8B8=").expect(403);
  });

  it("refuses a missing signature with 403", async () => {
    const res = await post(app("https://mycompany.com"), "/myapp.php?foo=1&bar=2").expect(403);
    expect(res.body.error.code).toBe("bad_signature");
  });

  it("answers 503 with a clear message when Twilio is not configured", async () => {
    const res = await post(app("https://mycompany.com", ""), "/myapp.php?foo=1&bar=2", "x").expect(503);
    expect(res.body.error).toEqual(expect.objectContaining({ code: "provider_not_configured", message: expect.stringContaining("TWILIO_AUTH_TOKEN") }));
  });
});
