import type { EntityManager } from "typeorm";
import { prepared } from "../../platform/db/prepared";
import { shiftParams, type Rider } from "../../platform/db/rider";
import { contactByPhoneSql, type ContactMatch, type ContactsService } from "../contacts/contacts.service";
import type { DealsService } from "../deals/deals.service";
import type { ParsedPhone } from "../phones/phone-number";

/** A call of the contact that started before this one: this one is then no first call. */
const EARLIER_CALL_OF = (contact: string, call: string, startedAt: string) => `SELECT 1 FROM calls WHERE contact_id = ${contact} AND id <> ${call} AND started_at < ${startedAt}`;
const EARLIER_CALL = prepared("callers.earlier_call", `${EARLIER_CALL_OF("$1", "$2", "$3")} LIMIT 1`);

/**
 * The contact that has the number, or else the number, its new contact and that contact's first
 * deal; and the deal the call belongs to. One statement, where it was up to four round trips. The
 * number goes first: when another contact got it meanwhile (ON CONFLICT waits for a concurrent
 * first call to commit), nothing is written and nothing comes back. Foreign keys are checked at
 * the end of the statement, when the contact exists.
 *
 * $1 name, $2 e164, $3 raw, $4 extension, $5 pipeline, $6 first stage (NULL: no deal is opened),
 * $7 deal title, $8 call id, $9 its start (a known contact's earlier call makes it no first call);
 * then a rider's (another component's read for the same call, answered as `rider`), if any.
 */
const contactAndDealSql = (riderSql: string | null) =>
  `WITH found AS (${contactByPhoneSql("$2")}),
   phone AS (
     INSERT INTO contact_phones (contact_id, e164, raw, extension) SELECT gen_random_uuid(), $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM found)
     ON CONFLICT (e164) DO NOTHING RETURNING contact_id),
   created AS (INSERT INTO contacts (id, name) SELECT contact_id, $1 FROM phone RETURNING id, name),
   new_deal AS (
     INSERT INTO deals (contact_id, pipeline_id, stage_id, title, owner_id, source_call_id)
     SELECT id, $5, $6, $7, NULL, $8 FROM created WHERE $6::uuid IS NOT NULL RETURNING id),
   history AS (INSERT INTO deal_stage_history (deal_id, to_stage_id) SELECT id, $6 FROM new_deal)${riderSql ? `,
   rider AS (${shiftParams(riderSql, CONTACT_AND_DEAL_PARAMS)})` : ""}
   SELECT f.id, f.name, f.owner_id, false AS created,
     (SELECT d.id FROM deals d WHERE d.contact_id = f.id AND d.status = 'open' ORDER BY d.created_at DESC LIMIT 1) AS deal_id,
     EXISTS (${EARLIER_CALL_OF("f.id", "$8", "$9")}) AS earlier_call${riderColumn(riderSql)}
   FROM found f
   UNION ALL SELECT c.id, c.name, NULL, true, (SELECT id FROM new_deal), false${riderColumn(riderSql)} FROM created c`;

const CONTACT_AND_DEAL_PARAMS = 9;
const riderColumn = (riderSql: string | null) => (riderSql ? `, (SELECT to_jsonb(r) FROM rider r LIMIT 1) AS rider` : "");
const CONTACT_AND_DEAL = prepared("callers.contact_and_deal", contactAndDealSql(null));
/** The statement with a rider, per rider: prepared once each. Exported for its plan's test. */
const withRider = new Map<string, string>();
export const contactAndDealWith = (rider: Rider | undefined): string => {
  if (!rider) return CONTACT_AND_DEAL;
  let text = withRider.get(rider.name);
  if (!text) withRider.set(rider.name, (text = prepared(`callers.contact_and_deal+${rider.name}`, contactAndDealSql(rider.sql))));
  return text;
};

export interface CallerRecords {
  contact: ContactMatch;
  /** The contact's newest open deal, or the one this first call opened; null if none. */
  dealId: string | null;
  /** The contact had a call that started before this one. */
  hasEarlierCall: boolean;
  /** The rider's row, as JSON (null when it found none); undefined when it did not ride (ask it yourself). */
  riderRow?: unknown;
}

/**
 * A call's customer in the CRM: their contact and the deal the call belongs to. Exactly one
 * contact per number even under concurrent first calls: the unique index on
 * contact_phones.e164 decides the winner; a loser writes nothing and reads the winner's row
 * (never read-then-write). A first call from a new contact opens a deal in the default
 * pipeline's first stage; a known contact's call joins their newest open deal.
 */
export class CallerRecordsService {
  constructor(
    private readonly contacts: ContactsService,
    private readonly deals: DealsService,
  ) {}

  async forCall(
    em: EntityManager,
    phone: Extract<ParsedPhone, { kind: "number" }>,
    call: { raw: string; callerName?: string; callId: string; startedAt: Date; dealTitle: string },
    rider?: Rider,
  ): Promise<CallerRecords> {
    const name = this.contacts.nameFor(phone.e164, call.callerName);
    const stage = await this.deals.defaultFirstStage(em);
    const [row] = await em.query(contactAndDealWith(rider), [
      name,
      phone.e164,
      call.raw.slice(0, 100),
      phone.extension ?? null,
      stage?.pipeline_id ?? null,
      stage?.stage_id ?? null,
      call.dealTitle.slice(0, 200),
      call.callId,
      call.startedAt,
      ...(rider?.params ?? []),
    ]);
    if (!row) {
      // A concurrent first call from the number won: its contact, committed now (a new snapshot).
      const winner = await this.contacts.findByE164(em, phone.e164);
      if (!winner) throw new Error(`contact for ${phone.e164} vanished during upsert`);
      const [earlier] = await em.query(EARLIER_CALL, [winner.contactId, call.callId, call.startedAt]);
      // No row came back, so neither did the rider's: `riderRow` stays undefined.
      return { contact: { ...winner, isNew: false }, dealId: await this.deals.openDealOf(em, winner.contactId), hasEarlierCall: Boolean(earlier) };
    }
    if (!row.created) {
      return { contact: { contactId: row.id, name: row.name, ownerId: row.owner_id, isNew: false }, dealId: row.deal_id, hasEarlierCall: row.earlier_call, ...ridden(rider, row) };
    }
    await this.contacts.recordCreatedByCall(em, row.id, name, phone.e164);
    if (row.deal_id && stage) await this.deals.recordOpenedByCall(em, row.deal_id, row.id, stage);
    return { contact: { contactId: row.id, isNew: true, name, ownerId: null }, dealId: row.deal_id, hasEarlierCall: false, ...ridden(rider, row) };
  }
}

const ridden = (rider: Rider | undefined, row: { rider: unknown }) => (rider ? { riderRow: row.rider } : {});
