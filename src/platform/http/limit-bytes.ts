import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { AppError } from "../errors";

/** Passes a request body through, failing with 413 once it exceeds `max` bytes (streamed bodies have no body-parser limit). */
export function limitBytes(body: Readable, max: number): Readable {
  let seen = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(seen > max ? new AppError("payload_too_large", `The body is over ${Math.round(max / 1024 / 1024)} MB`) : null, chunk);
    },
  });
  body.on("error", (err) => limited.destroy(err));
  return body.pipe(limited);
}
