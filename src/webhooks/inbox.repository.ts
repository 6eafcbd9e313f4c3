import type { DataSource } from "typeorm";

export async function countPendingInbox(ds: DataSource): Promise<number> {
  const rows: Array<{ n: string }> = await ds.query(`SELECT count(*) AS n FROM inbox WHERE status IN ('pending','deferred')`);
  return Number(rows[0]?.n ?? 0);
}

/** Deliveries parked as `failed`, waiting for an admin (/api/inbox/deliveries): an alert above 0. Read by a partial index of them. */
export async function countFailedInbox(ds: DataSource): Promise<number> {
  const rows: Array<{ n: string }> = await ds.query(`SELECT count(*) AS n FROM inbox WHERE status = 'failed'`);
  return Number(rows[0]?.n ?? 0);
}
