import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../../platform/errors";

export interface MediaConfig {
  apiBase: string;
  accountSid: string | undefined;
  authToken: string | undefined;
  /** Hosts a redirect may lead to; `*.example.com` matches subdomains. */
  mediaHosts: string[];
  /** Where copies are kept (DATA_DIR/recordings), or undefined for no copies. */
  copyDir: string | undefined;
}

export interface Media {
  status: 200 | 206;
  headers: Record<string, string>;
  body: Readable;
}

const MAX_REDIRECTS = 3;
const FETCH_TIMEOUT_MS = 15_000;
/** Headers of the provider's answer that the player needs; nothing else is passed on. */
const PASSED_HEADERS = ["content-type", "content-length", "content-range", "accept-ranges", "last-modified", "etag"];
const SID = /^RE[0-9a-f]{32}$/i;

/**
 * Recording audio, fetched from the provider by the service and streamed to the player. The URL
 * is built from TWILIO_API_BASE, our account and the RecordingSid, never taken from a request.
 * Basic auth goes to the API host only; a redirect is followed only to an allowlisted host and
 * without credentials (SSRF guard). Range requests pass through for seeking.
 */
export class RecordingMedia {
  private readonly apiOrigin: string;

  constructor(private readonly cfg: MediaConfig) {
    this.apiOrigin = new URL(cfg.apiBase).origin;
  }

  async open(recordingSid: string, range: string | undefined): Promise<Media> {
    if (!SID.test(recordingSid)) throw new AppError("not_found", "This recording cannot be played");
    if (!this.cfg.accountSid || !this.cfg.authToken) {
      throw new AppError("provider_not_configured", "Recording playback needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN");
    }
    if (this.cfg.copyDir) return this.fromCopy(recordingSid, range);
    return this.fetchMedia(recordingSid, range);
  }

  private mediaUrl(sid: string): URL {
    return new URL(`${this.cfg.apiBase}/2010-04-01/Accounts/${encodeURIComponent(this.cfg.accountSid!)}/Recordings/${sid}.mp3`);
  }

  private allowed(url: URL): boolean {
    if (url.protocol !== "https:" && url.protocol !== "http:") return false;
    if (url.origin === this.apiOrigin) return true;
    const host = url.hostname.toLowerCase();
    return this.cfg.mediaHosts.some((h) => (h.startsWith("*.") ? host.endsWith(h.slice(1)) : host === h));
  }

  private async fetchMedia(sid: string, range: string | undefined): Promise<Media> {
    let url = this.mediaUrl(sid);
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = {};
      if (range) headers.range = range;
      // Credentials only ever go to the API itself, never to where it redirects.
      if (url.origin === this.apiOrigin) headers.authorization = `Basic ${Buffer.from(`${this.cfg.accountSid}:${this.cfg.authToken}`).toString("base64")}`;
      let res: Response;
      try {
        res = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      } catch (err) {
        throw new AppError("bad_gateway", "The recording provider could not be reached", undefined, { cause: err });
      }
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers.get("location");
        await res.body?.cancel();
        const next = location ? new URL(location, url) : undefined;
        if (!next || !this.allowed(next)) throw new AppError("bad_gateway", "The recording provider redirected to a host that is not allowed");
        url = next;
        continue;
      }
      if (res.status === 404) {
        await res.body?.cancel();
        throw new AppError("not_found", "The provider no longer has this recording");
      }
      if ((res.status !== 200 && res.status !== 206) || !res.body) {
        await res.body?.cancel();
        throw new AppError("bad_gateway", `The recording provider answered ${res.status}`);
      }
      const passed: Record<string, string> = {};
      for (const h of PASSED_HEADERS) {
        const v = res.headers.get(h);
        if (v) passed[h] = v;
      }
      passed["content-type"] ??= "audio/mpeg";
      return { status: res.status, headers: passed, body: Readable.fromWeb(res.body as import("node:stream/web").ReadableStream) };
    }
    throw new AppError("bad_gateway", "The recording provider redirected too many times");
  }

  /** Plays from the kept copy, fetching the whole recording once first. */
  private async fromCopy(sid: string, range: string | undefined): Promise<Media> {
    const dir = this.cfg.copyDir!;
    const file = join(dir, `${sid}.mp3`);
    let size = await stat(file).then((s) => s.size).catch(() => undefined);
    if (size === undefined) {
      await mkdir(dir, { recursive: true });
      const media = await this.fetchMedia(sid, undefined);
      const partial = `${file}.${process.pid}.${Date.now()}.part`;
      try {
        await pipeline(media.body, createWriteStream(partial));
        await rename(partial, file);
      } finally {
        await rm(partial, { force: true });
      }
      size = (await stat(file)).size;
    }
    const span = byteRange(range, size);
    const headers: Record<string, string> = { "content-type": "audio/mpeg", "accept-ranges": "bytes", "content-length": String(span.end - span.start + 1) };
    if (span.partial) headers["content-range"] = `bytes ${span.start}-${span.end}/${size}`;
    return { status: span.partial ? 206 : 200, headers, body: createReadStream(file, { start: span.start, end: span.end }) };
  }
}

/** A single `bytes=a-b` range over a file of `size` bytes; anything else means the whole file. */
function byteRange(range: string | undefined, size: number): { start: number; end: number; partial: boolean } {
  const m = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  if (!m || (m[1] === "" && m[2] === "")) return { start: 0, end: size - 1, partial: false };
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) throw new AppError("range_not_satisfiable", `bytes */${size}`);
  return { start, end, partial: true };
}
