// The baseline: a bare express server doing the same signature check and answering 204.
const express = require("express");
const twilio = require("twilio");

const { PORT, PUBLIC_URL, TWILIO_AUTH_TOKEN } = process.env;
const app = express();
app.post("/webhooks/twilio/status", express.urlencoded({ extended: false, limit: "64kb" }), (req, res) => {
  const ok = twilio.validateRequest(TWILIO_AUTH_TOKEN, req.headers["x-twilio-signature"] || "", `${PUBLIC_URL}${req.originalUrl}`, req.body);
  res.status(ok ? 204 : 403).end();
});
app.listen(Number(PORT), "127.0.0.1");
