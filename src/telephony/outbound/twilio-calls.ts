import twilio from "twilio";
import RequestClient from "twilio/lib/base/RequestClient";
import { AppError } from "../../platform/errors";

const TWILIO_API = "https://api.twilio.com";

/** The twilio package's HTTP client, sending to TWILIO_API_BASE (an edge host, or a local fake). */
class BaseUrlClient extends RequestClient {
  constructor(private readonly base: string) {
    super({ timeout: 10_000 });
  }

  override request<T>(opts: RequestClient.RequestOptions<T>) {
    return super.request({ ...opts, uri: opts.uri.startsWith(TWILIO_API) ? this.base + opts.uri.slice(TWILIO_API.length) : opts.uri });
  }
}

export interface NewOutboundCall {
  /** What Twilio dials first: the agent's dial target. */
  to: string;
  /** The caller id the agent sees. */
  from: string;
  /** What runs once the agent answers (bridging the customer). */
  twiml: string;
  statusCallback: string;
  timeoutSec: number;
}

/** Twilio's Calls resource (and its Streams), through the twilio package; its failures become clear 502s. */
export class TwilioCalls {
  private readonly client: twilio.Twilio | undefined;

  constructor(cfg: { accountSid: string | undefined; authToken: string | undefined; apiBase: string }) {
    this.client = cfg.accountSid && cfg.authToken ? twilio(cfg.accountSid, cfg.authToken, { httpClient: new BaseUrlClient(cfg.apiBase) }) : undefined;
  }

  get configured(): boolean {
    return this.client !== undefined;
  }

  async create(call: NewOutboundCall): Promise<{ sid: string }> {
    const client = this.need("Click-to-call");
    try {
      const created = await client.calls.create({
        to: call.to,
        from: call.from,
        twiml: call.twiml,
        statusCallback: call.statusCallback,
        statusCallbackMethod: "POST",
        statusCallbackEvent: ["initiated", "ringing", "answered", "completed"],
        timeout: call.timeoutSec,
      });
      return { sid: created.sid };
    } catch (err) {
      throw providerError("the call", err);
    }
  }

  /** Forks both tracks of a live call to our WebSocket endpoint (a unidirectional Media Stream). */
  async startStream(callSid: string, url: string, name: string): Promise<{ sid: string }> {
    const client = this.need("Live listening");
    try {
      const stream = await client.calls(callSid).streams.create({ url, name, track: "both_tracks" });
      return { sid: stream.sid };
    } catch (err) {
      throw providerError("the stream", err);
    }
  }

  async stopStream(callSid: string, streamSid: string): Promise<void> {
    try {
      await this.need("Live listening").calls(callSid).streams(streamSid).update({ status: "stopped" });
    } catch (err) {
      throw providerError("stopping the stream", err);
    }
  }

  private need(what: string): twilio.Twilio {
    if (!this.client) throw new AppError("provider_not_configured", `${what} needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN`);
    return this.client;
  }
}

function providerError(what: string, err: unknown): AppError {
  const e = err as { status?: number; code?: number; message?: string };
  if (typeof e.status === "number") {
    return new AppError("bad_gateway", `Twilio refused ${what} (${e.status}${e.code ? `, code ${e.code}` : ""}): ${String(e.message ?? "").slice(0, 300)}`);
  }
  // No answer (a timeout, a reset): Twilio may have acted on it all the same.
  return new AppError("bad_gateway", `Twilio did not answer (${String(e.message ?? err).slice(0, 200)}): ${what} may have gone through`, { outcome: "unknown" });
}
