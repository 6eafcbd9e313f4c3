import type { Request, Response } from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** One registry per service instance (not the global one), so tests can build many. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request latency",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly webhooks = new Counter({
    name: "webhooks_received_total",
    help: "Webhook deliveries by route and result (accepted, duplicate, rejected, unavailable)",
    labelNames: ["route", "result"],
    registers: [this.registry],
  });
  readonly ringingAppliedHere = new Counter({
    name: "ringing_applied_here_total",
    help: "Ringing calls' deliveries that a process running the jobs applies itself (decision 0012), by result: applied, failed (then enqueued), at_capacity (enqueued instead)",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly jobs = new Counter({
    name: "jobs_processed_total",
    help: "Jobs processed by name and result",
    labelNames: ["job", "result"],
    registers: [this.registry],
  });

  readonly purgedRows = new Counter({
    name: "retention_purged_rows_total",
    help: "Rows deleted past their retention (decision 0015), by table",
    labelNames: ["table"],
    registers: [this.registry],
  });

  readonly outboundCalls = new Counter({
    name: "outbound_call_attempts_total",
    help: "Click-to-call attempts by result (placed, refused, limited, provider_error)",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly listenSessions = new Counter({
    name: "listen_sessions_total",
    help: "Supervisor listen-in sessions by result (started, refused, ended)",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly mediaFrames = new Counter({
    name: "media_stream_frames_total",
    help: "Twilio Media Stream messages with audio: relayed to listeners, or dropped (malformed, unasked-for)",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly listenDuration = new Histogram({
    name: "listen_session_duration_seconds",
    help: "How long supervisors listened in",
    buckets: [5, 15, 30, 60, 120, 300, 600, 1800],
    registers: [this.registry],
  });

  constructor(probes: { queueDepth: () => Promise<number>; inboxPending: () => Promise<number>; inboxFailed: () => Promise<number> }) {
    collectDefaultMetrics({ register: this.registry });
    this.probed("queue_depth", "Jobs waiting, delayed or running", probes.queueDepth);
    this.probed("inbox_pending", "Verified webhook deliveries not yet applied", probes.inboxPending);
    this.probed("inbox_failed", "Webhook deliveries parked as failed after ten failures, until an admin retries them (/api/inbox/deliveries)", probes.inboxFailed);
  }

  /** A gauge read from `probe` at each scrape; -1 when the probe fails (its store is away). */
  private probed(name: string, help: string, probe: () => Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await probe().catch(() => -1));
      },
    });
  }

  /** One finished HTTP request, labelled by its matched route pattern, never the raw URL (bounded cardinality). */
  observeHttp(req: Request, res: Response, seconds: number): void {
    const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : "unmatched";
    this.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
  }
}
