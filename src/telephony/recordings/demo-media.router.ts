import { Router } from "express";
import { existsSync } from "node:fs";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** What the simulator's calls use as their account: recordings of it are served here. */
export const DEMO_ACCOUNT_SID = `AC${"5".repeat(32)}`;
/** Where the demo stand-in for Twilio lives under the service's own URL (it is TWILIO_API_BASE in demo mode). */
export const DEMO_TWILIO_PATH = "/dev/twilio";

const SAMPLE_RATE = 8000;
const SECONDS = 24;
const SID = /^RE[0-9a-f]{32}$/i;

/**
 * Embedded mode with the development token only: a stand-in for Twilio's recording media, so
 * that the calls `npm run simulate` plays can be listened to in the console with no Twilio
 * account. It asks for the same Basic credentials Twilio would, and serves a short tune (one
 * per recording) as WAV with Range support, like the real thing. Never mounted in production.
 */
export function demoMediaRouter(opts: { accountSid: string; authToken: string; dir: string }): Router {
  const r = Router();
  const expected = `Basic ${Buffer.from(`${opts.accountSid}:${opts.authToken}`).toString("base64")}`;
  r.get("/2010-04-01/Accounts/:account/Recordings/:file", async (req, res) => {
    const sid = String(req.params.file).replace(/\.(mp3|wav)$/, "");
    if (req.get("authorization") !== expected || req.params.account !== opts.accountSid) {
      res.status(401).json({ code: 20003, message: "Authenticate" });
      return;
    }
    if (!SID.test(sid)) {
      res.status(404).json({ code: 20404, message: "The requested resource was not found" });
      return;
    }
    res.sendFile(await demoRecording(opts.dir, sid.toLowerCase()), { headers: { "cache-control": "private" } });
  });
  return r;
}

async function demoRecording(dir: string, sid: string): Promise<string> {
  const file = join(dir, `${sid}.wav`);
  if (existsSync(file)) return file;
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, tune(parseInt(sid.slice(2, 10), 16)));
  await rename(tmp, file);
  return file;
}

/** 16-bit mono PCM WAV: a phrase of notes picked from the seed, with gaps, like speech turns. */
export function tune(seed: number): Buffer {
  const samples = SAMPLE_RATE * SECONDS;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write("RIFF", 0);
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write("WAVEfmt ", 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(SAMPLE_RATE, 24);
  wav.writeUInt32LE(SAMPLE_RATE * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36);
  wav.writeUInt32LE(samples * 2, 40);
  const notes = [262, 294, 330, 349, 392, 440, 494, 523];
  const noteSamples = SAMPLE_RATE / 2;
  for (let i = 0; i < samples; i++) {
    const n = Math.floor(i / noteSamples);
    const inNote = i % noteSamples;
    const freq = notes[(seed + n * 7 + (n >> 2)) % notes.length]!;
    const silent = inNote > noteSamples * 0.8 || n % 5 === 4;
    const v = silent ? 0 : Math.sin((2 * Math.PI * freq * i) / SAMPLE_RATE) * 0.25 * Math.min(1, inNote / 200);
    wav.writeInt16LE(Math.round(v * 32767), 44 + i * 2);
  }
  return wav;
}
