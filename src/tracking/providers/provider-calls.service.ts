import type { EntityManager } from "typeorm";
import { lockMatching, PROVIDER_MATCH_MINUTES, type CallAttributionService } from "../attribution/call-attribution.service";
import { toProviderCall, type ProviderCall, type TrackingProvider } from "./provider-call";

/**
 * Applies a call-tracking provider's report of a call (from the inbox). The report is kept
 * (latest delivery wins); when its call is here it becomes that call's primary attribution,
 * otherwise the call picks it up when it arrives (CallAttributionService.attributeCall).
 */
export class ProviderCallsService {
  constructor(
    private readonly attribution: CallAttributionService,
    private readonly defaultRegion: string,
  ) {}

  async apply(em: EntityManager, provider: TrackingProvider, payload: unknown, receivedAt: Date): Promise<"applied" | "ignored"> {
    const report = toProviderCall(provider, payload, this.defaultRegion);
    if (!report) return "ignored";
    await lockMatching(em, report.caller, report.telephonyCallId);
    const [row] = await em.query(
      `INSERT INTO tracking_provider_calls (provider, provider_call_id, telephony_call_id, caller, tracking_number, business_number, started_at,
         source, medium, campaign, keyword, click_id, click_id_type, landing_page, referrer, first_call, last_delivery_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
       ON CONFLICT (provider, provider_call_id) DO UPDATE SET
         telephony_call_id = EXCLUDED.telephony_call_id, caller = EXCLUDED.caller, tracking_number = EXCLUDED.tracking_number,
         business_number = EXCLUDED.business_number, started_at = EXCLUDED.started_at, source = EXCLUDED.source, medium = EXCLUDED.medium,
         campaign = EXCLUDED.campaign, keyword = EXCLUDED.keyword, click_id = EXCLUDED.click_id, click_id_type = EXCLUDED.click_id_type,
         landing_page = EXCLUDED.landing_page, referrer = EXCLUDED.referrer, first_call = EXCLUDED.first_call,
         last_delivery_at = EXCLUDED.last_delivery_at, updated_at = now()
       WHERE tracking_provider_calls.last_delivery_at <= EXCLUDED.last_delivery_at
       RETURNING id, call_id`,
      [
        report.provider, report.providerCallId, report.telephonyCallId, report.caller, report.trackingNumber, report.businessNumber, report.startedAt,
        report.source, report.medium, report.campaign, report.keyword, report.clickId, report.clickIdType, report.landingPage, report.referrer,
        report.firstCall, receivedAt,
      ],
    );
    if (!row) return "applied"; // an older delivery than what is stored: nothing to change
    const callId: string | null = row.call_id ?? (await this.matchCall(em, row.id, report));
    if (!callId) return "applied";
    if (!row.call_id) await em.query(`UPDATE tracking_provider_calls SET call_id = $2 WHERE id = $1`, [row.id, callId]);
    await this.attribution.applyProviderReport(em, callId, report);
    return "applied";
  }

  /** Our inbound call for the report: by its telephony id, else caller + tracking or business number, nearest in time. */
  private async matchCall(em: EntityManager, reportId: string, r: ProviderCall): Promise<string | null> {
    if (r.telephonyCallId) {
      const [byId] = await em.query(`SELECT id FROM calls WHERE provider_call_id = $1 AND direction = 'inbound' LIMIT 1`, [r.telephonyCallId]);
      if (byId) return byId.id;
    }
    if (!r.caller) return null;
    const numbers = [r.trackingNumber, r.businessNumber].filter((n): n is string => n !== null);
    if (numbers.length === 0) return null;
    const [call] = await em.query(
      `SELECT c.id FROM calls c
       WHERE c.direction = 'inbound' AND c.from_e164 = $1 AND c.to_e164 = ANY ($2::text[])
         AND c.started_at BETWEEN $3::timestamptz - make_interval(mins => ${PROVIDER_MATCH_MINUTES}) AND $3::timestamptz + make_interval(mins => ${PROVIDER_MATCH_MINUTES})
         AND NOT EXISTS (SELECT 1 FROM tracking_provider_calls p WHERE p.call_id = c.id AND p.id <> $4)
       ORDER BY abs(extract(epoch FROM c.started_at - $3::timestamptz)) LIMIT 1`,
      [r.caller, numbers, r.startedAt, reportId],
    );
    return call?.id ?? null;
  }
}
