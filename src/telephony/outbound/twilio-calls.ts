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

/** Twilio's Calls resource, through the twilio package; its failures become clear 502s. */
export class TwilioCalls {
  private readonly client: twilio.Twilio | undefined;

  constructor(cfg: { accountSid: string | undefined; authToken: string | undefined; apiBase: string }) {
    this.client = cfg.accountSid && cfg.authToken ? twilio(cfg.accountSid, cfg.authToken, { httpClient: new BaseUrlClient(cfg.apiBase) }) : undefined;
  }

  get configured(): boolean {
    return this.client !== undefined;
  }

  async create(call: NewOutboundCall): Promise<{ sid: string }> {
    if (!this.client) throw new AppError("provider_not_configured", "Click-to-call needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN");
    try {
      const created = await this.client.calls.create({
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
      const e = err as { status?: number; code?: number; message?: string };
      if (typeof e.status === "number") {
        throw new AppError("bad_gateway", `Twilio refused the call (${e.status}${e.code ? `, code ${e.code}` : ""}): ${String(e.message ?? "").slice(0, 300)}`);
      }
      throw new AppError("bad_gateway", `Twilio could not be reached: ${String(e.message ?? err).slice(0, 200)}`);
    }
  }
}
