import type { MigrationInterface, QueryRunner } from "typeorm";

/** Outbound webhook subscriptions say what they are for, count failures in a row, and why they were switched off. */
export class OutboundWebhookHealth1764000000009 implements MigrationInterface {
  name = "OutboundWebhookHealth1764000000009";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE webhook_subscriptions
        ADD COLUMN description text,
        ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
        ADD COLUMN disabled_reason text`);
    await q.query(`CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_deliveries_log_idx`);
    await q.query(`ALTER TABLE webhook_subscriptions DROP COLUMN description, DROP COLUMN consecutive_failures, DROP COLUMN disabled_reason`);
  }
}
