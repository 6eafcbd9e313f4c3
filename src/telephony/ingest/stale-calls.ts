import type { DataSource } from "typeorm";
import type { CallIngestService } from "./call-ingest.service";

/**
 * A call still "ringing" long after it started lost its final callbacks (the provider gave up
 * retrying). It is finalised as missed (reason "timeout"), so its call-back task exists.
 */
export async function finalizeStaleRingingCalls(ds: DataSource, ingest: CallIngestService, olderThanMinutes: number): Promise<number> {
  const rows: Array<{ provider: string; provider_call_id: string; direction: "inbound" | "outbound"; from_raw: string; to_raw: string }> = await ds.query(
    `SELECT provider, provider_call_id, direction, from_raw, to_raw FROM calls
     WHERE status = 'ringing' AND started_at < now() - make_interval(mins => $1) ORDER BY started_at LIMIT 200`,
    [olderThanMinutes],
  );
  for (const r of rows) {
    await ds.transaction((em) =>
      ingest.apply(
        em,
        {
          type: "call.status",
          provider: r.provider as "twilio" | "pbx",
          callId: r.provider_call_id,
          occurredAt: new Date(),
          rawStatus: "timeout",
          status: "completed",
          direction: r.direction,
          from: r.from_raw,
          to: r.to_raw,
        },
        null,
      ),
    );
  }
  return rows.length;
}
