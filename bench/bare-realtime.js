// Baseline for webhook → pop: express + socket.io, signature check, emit a fixed card to the
// sockets of 10 agents (round robin), no database, no queue.
const http = require("node:http");
const express = require("express");
const { Server } = require("socket.io");
const twilio = require("twilio");

const { PORT, PUBLIC_URL, TWILIO_AUTH_TOKEN } = process.env;
const app = express();
const server = http.createServer(app);
const io = new Server(server, { path: "/socket.io", maxHttpBufferSize: 16 * 1024 });
let next = 0;
app.post("/webhooks/twilio/voice", express.urlencoded({ extended: false, limit: "64kb" }), (req, res) => {
  if (!twilio.validateRequest(TWILIO_AUTH_TOKEN, req.headers["x-twilio-signature"] || "", `${PUBLIC_URL}${req.originalUrl}`, req.body)) {
    res.status(403).end();
    return;
  }
  const sockets = [...io.of("/").sockets.values()];
  const pop = { popId: req.body.CallSid, call: { from: req.body.From, to: req.body.To, status: "ringing" }, contact: null };
  for (let i = 0; i < Math.min(10, sockets.length); i++) sockets[(next + i) % sockets.length].emit("screen-pop", pop, () => undefined);
  next = (next + 10) % Math.max(1, sockets.length);
  res.type("text/xml").send("<Response><Dial/></Response>");
});
server.listen(Number(PORT), "127.0.0.1");
