import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * The whole data model in one reviewed migration. Conventions: uuid keys (gen_random_uuid),
 * timestamptz everywhere, text + CHECK instead of enum types (cheaper to extend), explicit
 * ON DELETE, and named indexes for the hot lookups.
 */
export class InitialSchema1764000000000 implements MigrationInterface {
  name = "InitialSchema1764000000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);

    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('agent','supervisor','marketer','admin')),
        password_hash text NOT NULL,
        dial_target text,
        presence text NOT NULL DEFAULT 'offline' CHECK (presence IN ('available','away','busy','offline')),
        presence_changed_at timestamptz,
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX users_email_key ON users (lower(email))`);
    await q.query(`CREATE INDEX users_presence_idx ON users (presence) WHERE is_active`);

    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        prefix text NOT NULL UNIQUE,
        key_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('agent','supervisor','marketer','admin')),
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        last_used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE contacts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        email text,
        company text,
        owner_id uuid REFERENCES users(id) ON DELETE SET NULL,
        first_touch_attribution_id uuid,
        last_touch_attribution_id uuid,
        merged_into_id uuid REFERENCES contacts(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await q.query(`CREATE INDEX contacts_owner_idx ON contacts (owner_id)`);
    await q.query(`CREATE INDEX contacts_name_idx ON contacts (lower(name) text_pattern_ops)`);
    await q.query(`CREATE INDEX contacts_email_idx ON contacts (lower(email))`);
    await q.query(`CREATE INDEX contacts_created_idx ON contacts (created_at)`);

    await q.query(`
      CREATE TABLE contact_phones (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        e164 text NOT NULL,
        raw text NOT NULL,
        extension text,
        label text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One number belongs to one contact: this constraint is what makes concurrent first calls
    // from one number produce exactly one contact.
    await q.query(`CREATE UNIQUE INDEX contact_phones_e164_key ON contact_phones (e164)`);
    await q.query(`CREATE INDEX contact_phones_contact_idx ON contact_phones (contact_id)`);

    await q.query(`
      CREATE TABLE pipelines (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        is_default boolean NOT NULL DEFAULT false,
        position integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX pipelines_one_default_key ON pipelines (is_default) WHERE is_default`);

    await q.query(`
      CREATE TABLE pipeline_stages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pipeline_id uuid NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
        name text NOT NULL,
        position integer NOT NULL,
        kind text NOT NULL DEFAULT 'open' CHECK (kind IN ('open','won','lost')),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (pipeline_id, name)
      )`);
    await q.query(`CREATE INDEX pipeline_stages_order_idx ON pipeline_stages (pipeline_id, position)`);

    await q.query(`
      CREATE TABLE calls (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        provider text NOT NULL,
        provider_call_id text NOT NULL,
        direction text NOT NULL CHECK (direction IN ('inbound','outbound')),
        from_raw text NOT NULL,
        to_raw text NOT NULL,
        from_e164 text,
        to_e164 text,
        contact_id uuid REFERENCES contacts(id) ON DELETE SET NULL,
        deal_id uuid,
        status text NOT NULL CHECK (status IN ('ringing','in-progress','completed')),
        outcome text CHECK (outcome IN ('answered','missed')),
        missed_reason text,
        answered_by uuid REFERENCES users(id) ON DELETE SET NULL,
        is_first_time_caller boolean,
        disposition text,
        started_at timestamptz NOT NULL,
        answered_at timestamptz,
        ended_at timestamptz,
        duration_sec integer,
        last_sequence integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT calls_provider_call_key UNIQUE (provider, provider_call_id)
      )`);
    await q.query(`CREATE INDEX calls_started_idx ON calls (started_at DESC)`);
    await q.query(`CREATE INDEX calls_contact_idx ON calls (contact_id, started_at DESC)`);
    await q.query(`CREATE INDEX calls_live_idx ON calls (started_at) WHERE status <> 'completed'`);
    await q.query(`CREATE INDEX calls_outcome_idx ON calls (outcome, started_at DESC)`);
    await q.query(`CREATE INDEX calls_answered_by_idx ON calls (answered_by, started_at DESC)`);

    await q.query(`
      CREATE TABLE call_legs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        provider text NOT NULL,
        provider_leg_id text NOT NULL,
        target text,
        user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        status text NOT NULL,
        answered_at timestamptz,
        ended_at timestamptz,
        duration_sec integer,
        last_sequence integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT call_legs_provider_leg_key UNIQUE (provider, provider_leg_id)
      )`);
    await q.query(`CREATE INDEX call_legs_call_idx ON call_legs (call_id)`);

    await q.query(`
      CREATE TABLE deals (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        contact_id uuid NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
        pipeline_id uuid NOT NULL REFERENCES pipelines(id) ON DELETE RESTRICT,
        stage_id uuid NOT NULL REFERENCES pipeline_stages(id) ON DELETE RESTRICT,
        title text NOT NULL,
        amount numeric(14,2),
        currency char(3) NOT NULL DEFAULT 'USD',
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','won','lost')),
        owner_id uuid REFERENCES users(id) ON DELETE SET NULL,
        source_call_id uuid REFERENCES calls(id) ON DELETE SET NULL,
        attribution_id uuid,
        lost_reason text,
        closed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX deals_contact_idx ON deals (contact_id, status)`);
    await q.query(`CREATE INDEX deals_pipeline_idx ON deals (pipeline_id, stage_id) WHERE status = 'open'`);
    await q.query(`CREATE INDEX deals_closed_idx ON deals (status, closed_at)`);
    await q.query(`ALTER TABLE calls ADD CONSTRAINT calls_deal_fk FOREIGN KEY (deal_id) REFERENCES deals(id) ON DELETE SET NULL`);

    await q.query(`
      CREATE TABLE deal_stage_history (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        deal_id uuid NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
        from_stage_id uuid REFERENCES pipeline_stages(id) ON DELETE SET NULL,
        to_stage_id uuid NOT NULL REFERENCES pipeline_stages(id) ON DELETE RESTRICT,
        changed_by uuid REFERENCES users(id) ON DELETE SET NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX deal_stage_history_deal_idx ON deal_stage_history (deal_id, changed_at)`);

    await q.query(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        type text NOT NULL CHECK (type IN ('call_back','follow_up','todo')),
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open','done','canceled')),
        title text NOT NULL,
        contact_id uuid REFERENCES contacts(id) ON DELETE CASCADE,
        call_id uuid REFERENCES calls(id) ON DELETE SET NULL,
        deal_id uuid REFERENCES deals(id) ON DELETE SET NULL,
        assignee_id uuid REFERENCES users(id) ON DELETE SET NULL,
        due_at timestamptz NOT NULL,
        attempts integer NOT NULL DEFAULT 1,
        missed_call_ids uuid[] NOT NULL DEFAULT '{}',
        resolution text,
        completed_at timestamptz,
        completed_by uuid REFERENCES users(id) ON DELETE SET NULL,
        time_to_callback_sec integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // At most one open call-back per contact: a further miss bumps it instead of opening another.
    await q.query(`CREATE UNIQUE INDEX tasks_open_call_back_key ON tasks (contact_id) WHERE type = 'call_back' AND status = 'open'`);
    await q.query(`CREATE INDEX tasks_open_assignee_idx ON tasks (assignee_id, due_at) WHERE status = 'open'`);
    await q.query(`CREATE INDEX tasks_contact_idx ON tasks (contact_id)`);

    await q.query(`
      CREATE TABLE notes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        contact_id uuid REFERENCES contacts(id) ON DELETE CASCADE,
        call_id uuid REFERENCES calls(id) ON DELETE CASCADE,
        deal_id uuid REFERENCES deals(id) ON DELETE CASCADE,
        author_id uuid REFERENCES users(id) ON DELETE SET NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (contact_id IS NOT NULL OR call_id IS NOT NULL OR deal_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX notes_contact_idx ON notes (contact_id, created_at)`);
    await q.query(`CREATE INDEX notes_call_idx ON notes (call_id)`);

    await q.query(`
      CREATE TABLE recordings (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        provider text NOT NULL,
        provider_recording_id text NOT NULL,
        status text NOT NULL,
        duration_sec integer,
        channels smallint,
        source text,
        started_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT recordings_provider_recording_key UNIQUE (provider, provider_recording_id)
      )`);
    await q.query(`CREATE INDEX recordings_call_idx ON recordings (call_id)`);

    await q.query(`
      CREATE TABLE inbox (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        source text NOT NULL,
        delivery_key text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','deferred','failed','ignored')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        received_at timestamptz NOT NULL DEFAULT now(),
        available_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        CONSTRAINT inbox_delivery_key UNIQUE (delivery_key)
      )`);
    await q.query(`CREATE INDEX inbox_pending_idx ON inbox (available_at) WHERE status IN ('pending','deferred')`);
    await q.query(`CREATE INDEX inbox_status_idx ON inbox (status, received_at)`);

    await q.query(`
      CREATE TABLE call_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        inbox_id uuid REFERENCES inbox(id) ON DELETE SET NULL,
        type text NOT NULL,
        provider_status text,
        sequence integer,
        occurred_at timestamptz NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX call_events_call_idx ON call_events (call_id, occurred_at, id)`);

    await q.query(`
      CREATE TABLE outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        topic text NOT NULL,
        payload jsonb NOT NULL,
        dedupe_key text,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        available_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        processed_at timestamptz,
        CONSTRAINT outbox_dedupe_key UNIQUE (dedupe_key)
      )`);
    await q.query(`CREATE INDEX outbox_pending_idx ON outbox (available_at, id) WHERE status = 'pending'`);

    await q.query(`
      CREATE TABLE screen_pops (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','acked','dismissed')),
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        acked_at timestamptz,
        dismissed_at timestamptz,
        CONSTRAINT screen_pops_call_user_key UNIQUE (call_id, user_id)
      )`);
    await q.query(`CREATE INDEX screen_pops_user_open_idx ON screen_pops (user_id, created_at) WHERE status IN ('pending','sent')`);

    await q.query(`
      CREATE TABLE tracking_pools (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        overflow_number text,
        hold_minutes integer NOT NULL DEFAULT 30 CHECK (hold_minutes BETWEEN 1 AND 1440),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE tracking_numbers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        number text NOT NULL UNIQUE,
        pool_id uuid REFERENCES tracking_pools(id) ON DELETE RESTRICT,
        source text,
        medium text,
        campaign text,
        is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tracking_numbers_pool_idx ON tracking_numbers (pool_id) WHERE is_active`);

    await q.query(`
      CREATE TABLE tracking_sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pool_id uuid NOT NULL REFERENCES tracking_pools(id) ON DELETE CASCADE,
        tracking_number_id uuid REFERENCES tracking_numbers(id) ON DELETE SET NULL,
        is_overflow boolean NOT NULL DEFAULT false,
        utm_source text,
        utm_medium text,
        utm_campaign text,
        utm_term text,
        utm_content text,
        click_id_type text,
        click_id text,
        referrer text,
        landing_page text,
        first_touch jsonb,
        lease_expires_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tracking_sessions_number_idx ON tracking_sessions (tracking_number_id, lease_expires_at DESC)`);

    await q.query(`
      CREATE TABLE tracking_pool_exhaustions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        pool_id uuid NOT NULL REFERENCES tracking_pools(id) ON DELETE CASCADE,
        session_id uuid REFERENCES tracking_sessions(id) ON DELETE SET NULL,
        occurred_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tracking_pool_exhaustions_pool_idx ON tracking_pool_exhaustions (pool_id, occurred_at)`);

    await q.query(`
      CREATE TABLE call_attributions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        call_id uuid NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        is_primary boolean NOT NULL DEFAULT true,
        method text NOT NULL CHECK (method IN ('static','session','provider')),
        confidence numeric(4,3) NOT NULL CHECK (confidence BETWEEN 0 AND 1),
        source text,
        medium text,
        campaign text,
        keyword text,
        click_id text,
        click_id_type text,
        landing_page text,
        referrer text,
        tracking_number text,
        session_id uuid REFERENCES tracking_sessions(id) ON DELETE SET NULL,
        provider text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX call_attributions_primary_key ON call_attributions (call_id) WHERE is_primary`);
    await q.query(`CREATE INDEX call_attributions_call_idx ON call_attributions (call_id)`);
    await q.query(`CREATE INDEX call_attributions_report_idx ON call_attributions (source, campaign, keyword) WHERE is_primary`);
    await q.query(`ALTER TABLE contacts ADD CONSTRAINT contacts_first_touch_fk FOREIGN KEY (first_touch_attribution_id) REFERENCES call_attributions(id) ON DELETE SET NULL`);
    await q.query(`ALTER TABLE contacts ADD CONSTRAINT contacts_last_touch_fk FOREIGN KEY (last_touch_attribution_id) REFERENCES call_attributions(id) ON DELETE SET NULL`);
    await q.query(`ALTER TABLE deals ADD CONSTRAINT deals_attribution_fk FOREIGN KEY (attribution_id) REFERENCES call_attributions(id) ON DELETE SET NULL`);

    await q.query(`
      CREATE TABLE audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        actor_type text NOT NULL CHECK (actor_type IN ('user','api_key','system')),
        actor_id text,
        action text NOT NULL CHECK (action IN ('create','update','delete')),
        entity text NOT NULL,
        entity_id text NOT NULL,
        before jsonb,
        after jsonb,
        request_id text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id, at)`);
    await q.query(`CREATE INDEX audit_log_at_idx ON audit_log (at)`);

    await q.query(`
      CREATE TABLE webhook_subscriptions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        url text NOT NULL,
        secret text NOT NULL,
        events text[] NOT NULL,
        is_active boolean NOT NULL DEFAULT true,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        subscription_id uuid NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
        event_type text NOT NULL,
        event_id text NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        CONSTRAINT webhook_deliveries_event_key UNIQUE (subscription_id, event_id)
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      "webhook_deliveries", "webhook_subscriptions", "audit_log", "screen_pops", "outbox", "call_events",
      "inbox", "recordings", "notes", "tasks", "deal_stage_history",
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
    await q.query(`ALTER TABLE contacts DROP CONSTRAINT contacts_first_touch_fk, DROP CONSTRAINT contacts_last_touch_fk`);
    await q.query(`ALTER TABLE calls DROP CONSTRAINT calls_deal_fk`);
    for (const table of [
      "deals", "call_attributions", "tracking_pool_exhaustions", "tracking_sessions", "tracking_numbers",
      "tracking_pools", "call_legs", "calls", "pipeline_stages", "pipelines", "contact_phones", "contacts",
      "api_keys", "users",
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
