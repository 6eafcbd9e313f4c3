import type { DataSource } from "typeorm";

export async function countPendingInbox(ds: DataSource): Promise<number> {
  const rows: Array<{ n: string }> = await ds.query(`SELECT count(*) AS n FROM inbox WHERE status IN ('pending','deferred')`);
  return Number(rows[0]?.n ?? 0);
}
