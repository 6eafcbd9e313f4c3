import { z } from "zod";
import { crmApiSchemas as crm } from "./crm";
import { clickToCallBody, listCallsQuery, pbxEventSchema } from "./telephony";
import { listInboxQuery } from "./webhooks";
import {
  attributionQuerySchema,
  callRailSchema,
  genericTrackingSchema,
  newNumberSchema,
  newPoolSchema,
  poolPatchSchema,
  poolQuerySchema,
  sessionRequestSchema,
} from "./tracking";

/**
 * GET /api/openapi.json: the OpenAPI 3.1 document. Request bodies and query parameters are
 * generated from the same zod schemas the routes validate with; response shapes are written
 * out below. test/api/openapi.api.test.ts checks the document is valid and that every path in
 * it is served.
 */

type Json = Record<string, unknown>;
type Role = "agent" | "supervisor" | "marketer" | "admin";

interface Operation {
  summary: string;
  tags: string[];
  /** Roles allowed; "public" needs no token; "signed" is a provider webhook checked by signature. */
  access: Role[] | "public" | "signed";
  query?: z.ZodObject;
  body?: z.ZodType | Json;
  bodyType?: "application/json" | "application/x-www-form-urlencoded" | "text/csv";
  /** Status → description and optional schema (a $ref name or an inline schema). */
  responses: Record<string, string | [string, Json | string, string?]>;
  headers?: Array<{ name: string; description: string; required?: boolean }>;
  pathParams?: string[];
}

const jsonSchema = (schema: z.ZodType): Json => z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const list = (item: string) => ({ type: "object", properties: { items: { type: "array", items: ref(item) } }, required: ["items"] });
const page = (item: string) => ({ type: "object", properties: { items: { type: "array", items: ref(item) }, nextCursor: { type: ["string", "null"] } }, required: ["items", "nextCursor"] });
const nullable = (type: string | string[]) => ({ type: [...(Array.isArray(type) ? type : [type]), "null"] });
const iso = { type: "string", format: "date-time" };

const COMPONENTS: Record<string, Json> = {
  Error: {
    type: "object",
    properties: { error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" }, requestId: { type: "string" } }, required: ["code", "message"] } },
    required: ["error"],
  },
  User: {
    type: "object",
    properties: { id: { type: "string", format: "uuid" }, email: { type: "string" }, name: { type: "string" }, role: { enum: ["agent", "supervisor", "marketer", "admin"] }, dialTarget: nullable("string") },
    required: ["id", "email", "name", "role"],
  },
  Attribution: {
    type: "object",
    properties: {
      source: nullable("string"),
      medium: nullable("string"),
      campaign: nullable("string"),
      keyword: nullable("string"),
      clickId: nullable("string"),
      landingPage: nullable("string"),
      trackingNumber: nullable("string"),
      method: { enum: ["static", "session", "provider"] },
      confidence: { type: "number", minimum: 0, maximum: 1 },
    },
  },
  Contact: {
    type: "object",
    properties: {
      id: { type: "string", format: "uuid" },
      name: { type: "string" },
      email: nullable("string"),
      company: nullable("string"),
      ownerId: nullable("string"),
      phones: { type: "array", items: { type: "string", description: "E.164" } },
      createdAt: iso,
    },
    required: ["id", "name", "phones"],
  },
  Call: {
    type: "object",
    properties: {
      id: { type: "string", format: "uuid" },
      providerCallId: { type: "string" },
      direction: { enum: ["inbound", "outbound"] },
      from: { type: "string" },
      to: { type: "string" },
      status: { enum: ["ringing", "in-progress", "completed"] },
      outcome: { enum: ["answered", "missed", null] },
      missedReason: nullable("string"),
      answeredBy: nullable("string"),
      startedAt: iso,
      answeredAt: nullable("string"),
      endedAt: nullable("string"),
      durationSec: nullable("integer"),
      contactId: nullable("string"),
      dealId: nullable("string"),
      isFirstTimeCaller: nullable("boolean"),
      disposition: nullable("string"),
      recording: { oneOf: [{ type: "null" }, { type: "object", properties: { durationSec: nullable("integer"), status: { type: "string" } } }] },
      attribution: { oneOf: [{ type: "null" }, ref("Attribution")] },
    },
    required: ["id", "direction", "from", "to", "status", "startedAt"],
  },
  Task: {
    type: "object",
    properties: {
      id: { type: "string", format: "uuid" },
      type: { enum: ["call_back", "follow_up", "todo"] },
      status: { enum: ["open", "done", "canceled"] },
      title: { type: "string" },
      contactId: nullable("string"),
      callId: nullable("string"),
      assigneeId: nullable("string"),
      dueAt: iso,
      overdue: { type: "boolean" },
      attempts: { type: "integer" },
      resolution: nullable("string"),
      completedAt: nullable("string"),
      timeToCallbackSec: nullable("integer"),
    },
    required: ["id", "type", "status", "dueAt"],
  },
  Deal: {
    type: "object",
    properties: {
      id: { type: "string", format: "uuid" },
      contactId: { type: "string", format: "uuid" },
      pipelineId: { type: "string", format: "uuid" },
      stageId: { type: "string", format: "uuid" },
      stage: { type: "string" },
      amount: nullable("string"),
      currency: { type: "string" },
      status: { enum: ["open", "won", "lost"] },
      title: { type: "string" },
    },
    required: ["id", "contactId", "pipelineId", "stage", "status"],
  },
  Lease: {
    type: "object",
    properties: { sessionId: { type: "string", format: "uuid" }, number: nullable("string"), expiresAt: iso, overflow: { type: "boolean" } },
    required: ["sessionId", "number", "expiresAt"],
  },
  TrackingNumber: {
    type: "object",
    properties: {
      id: { type: "string", format: "uuid" },
      number: { type: "string" },
      pool: nullable("string"),
      source: nullable("string"),
      medium: nullable("string"),
      campaign: nullable("string"),
      isActive: { type: "boolean" },
      leasedUntil: nullable("string"),
    },
  },
  Pool: {
    type: "object",
    properties: { id: { type: "string" }, name: { type: "string" }, overflowNumber: nullable("string"), holdMinutes: { type: "integer" }, size: { type: "integer" }, leased: { type: "integer" } },
  },
  AttributionRow: {
    type: "object",
    properties: Object.fromEntries(
      ["calls", "uniqueCallers", "firstTimeCallers", "answered", "missed", "deals", "won", "revenue", "callToDeal", "callToWon"].map((k) => [k, { type: "number" }]).concat([["key", { type: "string" }]]),
    ),
  },
  TwilioCallback: {
    type: "object",
    description: "Twilio's form parameters (CallSid, AccountSid, From, To, CallStatus, Direction, SequenceNumber, DialCallStatus, RecordingSid…), checked with X-Twilio-Signature",
    properties: { CallSid: { type: "string" }, AccountSid: { type: "string" }, From: { type: "string" }, To: { type: "string" }, CallStatus: { type: "string" } },
    required: ["CallSid"],
    additionalProperties: true,
  },
};

const ERR = (d: string): [string, string] => [d, "Error"];
const AUTHED = { "401": ERR("No or invalid credential"), "403": ERR("The role may not do this") };
const STAFF: Role[] = ["agent", "supervisor", "admin"];
const TWILIO_HEADERS = [{ name: "X-Twilio-Signature", description: "HMAC-SHA1 of PUBLIC_URL + path + sorted parameters with TWILIO_AUTH_TOKEN", required: true }];
const STANDARD_WEBHOOK_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) => ({ name, description: "Standard Webhooks", required: true }));
const WEBHOOK_ERRORS = { "400": ERR("Malformed"), "403": ERR("Unsigned or wrongly signed"), "413": ERR("Over 64 kB"), "503": ERR("Not configured, or the database is unavailable: retry") };
const twilioRoute = (summary: string, answer: [string, string]): Operation => ({
  summary,
  tags: ["webhooks"],
  access: "signed",
  headers: TWILIO_HEADERS,
  body: ref("TwilioCallback"),
  bodyType: "application/x-www-form-urlencoded",
  responses: { [answer[0]]: answer[1], ...WEBHOOK_ERRORS },
});

const PATHS: Record<string, Partial<Record<"get" | "post" | "put" | "patch" | "delete", Operation>>> = {
  "/healthz": { get: { summary: "The process is up", tags: ["health"], access: "public", responses: { "200": "Up" } } },
  "/readyz": { get: { summary: "Database and queue answer", tags: ["health"], access: "public", responses: { "200": "Ready", "503": "Not ready" } } },
  "/metrics": { get: { summary: "Prometheus metrics", tags: ["health"], access: "public", responses: { "200": "Metrics (text)" } } },
  "/api/openapi.json": { get: { summary: "This document", tags: ["health"], access: "public", responses: { "200": "OpenAPI 3.1" } } },

  "/webhooks/twilio/voice": { post: twilioRoute("Twilio incoming call: answers the routing TwiML", ["200", "TwiML (text/xml)"]) },
  "/webhooks/twilio/status": { post: twilioRoute("Twilio call and leg status callbacks", ["204", "Accepted (or a duplicate)"]) },
  "/webhooks/twilio/dial": { post: twilioRoute("Twilio <Dial action>: what happens after the agents rang", ["200", "TwiML (text/xml)"]) },
  "/webhooks/twilio/recording": { post: twilioRoute("Twilio recording status callback", ["204", "Accepted (or a duplicate)"]) },
  "/webhooks/pbx": {
    post: { summary: "A generic PBX call event (docs/pbx-webhook.md)", tags: ["webhooks"], access: "signed", headers: STANDARD_WEBHOOK_HEADERS, body: pbxEventSchema, responses: { "204": "Accepted", ...WEBHOOK_ERRORS } },
  },
  "/webhooks/tracking/{provider}": {
    post: {
      summary: "A call-tracking provider's report of a call: `generic` (Standard Webhooks) or `callrail` (signature header); docs/tracking-webhook.md",
      tags: ["webhooks", "tracking"],
      access: "signed",
      pathParams: ["provider"],
      headers: [...STANDARD_WEBHOOK_HEADERS.map((h) => ({ ...h, required: false })), { name: "signature", description: "CallRail: base64 HMAC-SHA1 of the body", required: false }],
      body: { oneOf: [jsonSchema(genericTrackingSchema), jsonSchema(callRailSchema)] },
      responses: { "204": "Accepted", "404": ERR("Unknown provider"), ...WEBHOOK_ERRORS },
    },
  },

  "/api/auth/login": { post: { summary: "Sign in", tags: ["auth"], access: "public", body: crm.login, responses: { "200": "{ token, expiresAt, user }", "401": ERR("Wrong email or password"), "423": ERR("Locked after too many failures in a row"), "429": ERR("Too many attempts from this address") } } },
  "/api/auth/me": { get: { summary: "The signed-in user", tags: ["auth"], access: ["agent", "supervisor", "marketer", "admin"], responses: { "200": ["The user", "User"], "401": ERR("No credential") } } },
  "/api/users": {
    get: { summary: "The team and their presence", tags: ["users"], access: ["supervisor", "admin"], responses: { "200": "{ items: User[] }", ...AUTHED } },
    post: { summary: "Create a user", tags: ["users"], access: ["admin"], body: crm.newUser, responses: { "201": ["The user", "User"], "409": ERR("The email exists"), ...AUTHED } },
  },
  "/api/users/{id}": {
    patch: {
      summary: "Change a user: name, role, dial target, password, active (tokens stop at once), lockout lifted; never the last active admin away",
      tags: ["users"],
      access: ["admin"],
      pathParams: ["id"],
      body: crm.patchUser,
      responses: { "200": ["The user", "User"], "404": ERR("No such user"), "409": ERR("The last active admin"), ...AUTHED },
    },
  },
  "/api/api-keys": { post: { summary: "An API key for integrations (shown once)", tags: ["users"], access: ["admin"], body: crm.newApiKey, responses: { "201": "{ id, name, role, key }", ...AUTHED } } },
  "/api/contacts": {
    get: { summary: "Search contacts (phone in any format, name or email prefix)", tags: ["contacts"], access: STAFF, query: crm.listContacts, responses: { "200": ["A page", page("Contact")], ...AUTHED } },
    post: { summary: "Create a contact (phones in any format, normalised)", tags: ["contacts"], access: STAFF, body: crm.newContact, responses: { "201": ["The contact", "Contact"], "409": ERR("A phone belongs to another contact"), ...AUTHED } },
  },
  "/api/contacts/import": {
    post: {
      summary: "Import contacts from CSV (streamed; columns name, email, company, phone…): matches merge instead of duplicating, each bad row is reported, re-importing changes nothing",
      tags: ["contacts"],
      access: ["supervisor", "admin"],
      body: { type: "string", description: "CSV with a header row" },
      bodyType: "text/csv",
      responses: { "200": "{ rows, created, updated, unchanged, failed, errors: [{ row, error }] }", "400": ERR("No usable column, or unreadable CSV"), "413": ERR("Over 100 MB"), "415": ERR("Not text/csv"), ...AUTHED },
    },
  },
  "/api/contacts/{id}": {
    get: { summary: "A contact with its calls, deals, tasks and touches", tags: ["contacts"], access: STAFF, pathParams: ["id"], responses: { "200": ["The contact", "Contact"], "404": ERR("No such contact"), ...AUTHED } },
    patch: { summary: "Change a contact (phones replace its numbers); audited", tags: ["contacts"], access: STAFF, pathParams: ["id"], body: crm.patchContact, responses: { "200": ["The contact", "Contact"], "404": ERR("No such contact"), "409": ERR("A phone belongs to another contact"), ...AUTHED } },
  },
  "/api/contacts/{id}/merge": {
    post: { summary: "Fold another contact into this one: phones, calls, deals, tasks and notes move", tags: ["contacts"], access: ["supervisor", "admin"], pathParams: ["id"], body: crm.mergeContact, responses: { "200": ["The merged contact", "Contact"], "404": ERR("No such contact"), ...AUTHED } },
  },
  "/api/contacts/{id}/notes": { post: { summary: "Add a note to a contact", tags: ["notes"], access: STAFF, pathParams: ["id"], body: crm.note, responses: { "201": "The note", "404": ERR("No such contact"), ...AUTHED } } },
  "/api/calls": {
    get: { summary: "Calls, newest first", tags: ["calls"], access: STAFF, query: listCallsQuery, responses: { "200": ["A page", page("Call")], ...AUTHED } },
    post: {
      summary:
        "Click-to-call: Twilio rings your dial target, then bridges the customer (a contact's first phone, a number, or a call-back task's contact), showing the number they last called us on or OUTBOUND_CALLER_ID; logged, recorded and closing call-backs like any call",
      tags: ["calls"],
      access: ["agent", "supervisor"],
      body: clickToCallBody,
      responses: {
        "201": ["The outbound call, ringing", "Call"],
        "404": ERR("No such contact or task"),
        "409": ERR("The task is not open"),
        "422": ERR("No dial target, no phone on the contact, or no caller id"),
        "429": ERR("OUTBOUND_CALLS_PER_USER_PER_HOUR or OUTBOUND_CALLS_PER_HOUR reached"),
        "502": ERR("Twilio refused or could not be reached (the call is logged as failed)"),
        "503": ERR("Twilio is not configured"),
        ...AUTHED,
      },
    },
  },
  "/api/calls/{id}": { get: { summary: "A call", tags: ["calls"], access: STAFF, pathParams: ["id"], responses: { "200": ["The call", "Call"], "404": ERR("No such call"), ...AUTHED } } },
  "/api/calls/{id}/recording": {
    get: {
      summary:
        "The call's recording, streamed through the service (Range supported); agents only for calls they answered. Instead of the Authorization header, `?access=` may carry a link token from POST …/recording/link",
      tags: ["calls"],
      access: ["agent", "supervisor", "admin"],
      pathParams: ["id"],
      headers: [{ name: "Range", description: "bytes=start-end, for seeking", required: false }],
      responses: { "200": "The audio (audio/mpeg)", "206": "Part of the audio", "404": ERR("No such call or no recording"), "416": ERR("Range not satisfiable"), "502": ERR("The provider failed or redirected to a host that is not allowed"), ...AUTHED },
    },
  },
  "/api/calls/{id}/recording/link": {
    post: {
      summary: "A link to the recording for a player that cannot send headers (<audio>): `{ url, expiresAt }`, good for 30 minutes, for GET on that recording only, and only while its user stays active",
      tags: ["calls"],
      access: ["agent", "supervisor", "admin"],
      pathParams: ["id"],
      responses: { "200": "{ url, expiresAt }", "404": ERR("No such call or no recording"), ...AUTHED },
    },
  },
  "/api/calls/{id}/notes": { post: { summary: "Add a note to a call", tags: ["notes"], access: STAFF, pathParams: ["id"], body: crm.note, responses: { "201": "The note", "404": ERR("No such call"), ...AUTHED } } },
  "/api/calls/{id}/disposition": { put: { summary: "Set the disposition after a call", tags: ["notes"], access: STAFF, pathParams: ["id"], body: crm.disposition, responses: { "200": "The call's disposition", "404": ERR("No such call"), ...AUTHED } } },
  "/api/deals": {
    get: { summary: "Deals", tags: ["deals"], access: STAFF, query: crm.listDeals, responses: { "200": ["A page", page("Deal")], ...AUTHED } },
    post: { summary: "Open a deal for a contact (default pipeline, first stage unless said)", tags: ["deals"], access: STAFF, body: crm.newDeal, responses: { "201": ["The deal", "Deal"], ...AUTHED } },
  },
  "/api/deals/{id}": {
    patch: {
      summary: "Move a deal to a stage of its pipeline (kept in its history), win it with an amount, lose it with a reason; agents change their own",
      tags: ["deals"],
      access: STAFF,
      pathParams: ["id"],
      body: crm.patchDeal,
      responses: { "200": ["The deal", "Deal"], "404": ERR("No such deal"), ...AUTHED },
    },
  },
  "/api/deals/{id}/history": { get: { summary: "The deal's stages over time", tags: ["deals"], access: STAFF, pathParams: ["id"], responses: { "200": "{ items: [{ fromStage, toStage, changedBy, changedAt }] }", "404": ERR("No such deal"), ...AUTHED } } },
  "/api/pipelines": {
    get: { summary: "Pipelines and their ordered stages", tags: ["deals"], access: ["agent", "supervisor", "marketer", "admin"], responses: { "200": "{ items: [{ id, name, isDefault, stages }] }", "401": ERR("No credential") } },
    post: { summary: "Add a pipeline", tags: ["deals"], access: ["admin"], body: crm.newPipeline, responses: { "201": "The pipeline", "409": ERR("The name exists"), ...AUTHED } },
  },
  "/api/tasks": { get: { summary: "Tasks, soonest due first (agents see their own)", tags: ["tasks"], access: STAFF, query: crm.listTasks, responses: { "200": ["A page", page("Task")], ...AUTHED } } },
  "/api/tasks/{id}": { patch: { summary: "Complete, reschedule or reassign a task", tags: ["tasks"], access: STAFF, pathParams: ["id"], body: crm.patchTask, responses: { "200": ["The task", "Task"], "404": ERR("No such task"), ...AUTHED } } },
  "/api/audit": { get: { summary: "A record's history: who, when, before and after", tags: ["audit"], access: ["supervisor", "admin"], query: crm.audit, responses: { "200": "{ items, nextCursor }", ...AUTHED } } },

  "/api/tracking/sessions": { post: { summary: "Lease a DNI number to a website visit (CORS, rate-limited)", tags: ["tracking"], access: "public", body: sessionRequestSchema, responses: { "200": ["The lease", "Lease"], "400": ERR("Invalid"), "404": ERR("Unknown pool or session"), "429": ERR("Rate limited") } } },
  "/tracking.js": { get: { summary: "The website snippet", tags: ["tracking"], access: "public", responses: { "200": "JavaScript" } } },
  "/api/tracking/numbers": {
    get: { summary: "Tracking numbers", tags: ["tracking"], access: ["admin", "marketer"], responses: { "200": ["{ items }", list("TrackingNumber")], ...AUTHED } },
    post: { summary: "Add a static or pool number", tags: ["tracking"], access: ["admin"], body: newNumberSchema, responses: { "201": ["The number", "TrackingNumber"], "409": ERR("Already a tracking number"), ...AUTHED } },
  },
  "/api/tracking/numbers/{id}": { delete: { summary: "Retire a number", tags: ["tracking"], access: ["admin"], pathParams: ["id"], responses: { "200": ["The number", "TrackingNumber"], "404": ERR("No such number"), ...AUTHED } } },
  "/api/tracking/pools": {
    get: { summary: "DNI pools", tags: ["tracking"], access: ["admin", "marketer"], responses: { "200": ["{ items }", list("Pool")], ...AUTHED } },
    post: { summary: "Create a pool", tags: ["tracking"], access: ["admin"], body: newPoolSchema, responses: { "201": ["The pool", "Pool"], "409": ERR("The name exists"), ...AUTHED } },
  },
  "/api/tracking/pools/{id}": { patch: { summary: "Change a pool's overflow number or hold time", tags: ["tracking"], access: ["admin"], pathParams: ["id"], body: poolPatchSchema, responses: { "200": ["The pool", "Pool"], "404": ERR("No such pool"), ...AUTHED } } },
  "/api/reports/attribution": {
    get: {
      summary: "Calls, callers, deals and revenue by source / medium / campaign / keyword (format=csv downloads it)",
      tags: ["reports"],
      access: ["marketer", "admin"],
      query: attributionQuerySchema,
      responses: { "200": ["The report", { type: "object", properties: { from: iso, to: iso, groupBy: { type: "string" }, items: { type: "array", items: ref("AttributionRow") }, totals: ref("AttributionRow") } }], ...AUTHED },
    },
  },
  "/api/webhooks/subscriptions": {
    get: { summary: "Outbound webhook subscriptions (secrets never shown again)", tags: ["outbound webhooks"], access: ["admin"], responses: { "200": "{ items }", ...AUTHED } },
    post: {
      summary: "Subscribe a URL to events (contact.created, call.missed, call.completed, task.created, deal.stage_changed, recording.ready); answers the whsec_ secret once",
      tags: ["outbound webhooks"],
      access: ["admin"],
      body: crm.newSubscription,
      responses: { "201": "{ id, url, events, isActive, secret }", ...AUTHED },
    },
  },
  "/api/webhooks/subscriptions/{id}": {
    patch: { summary: "Change a subscription; isActive: true switches a disabled one back on", tags: ["outbound webhooks"], access: ["admin"], pathParams: ["id"], body: crm.patchSubscription, responses: { "200": "The subscription", "404": ERR("No such subscription"), ...AUTHED } },
    delete: { summary: "Remove a subscription and its log", tags: ["outbound webhooks"], access: ["admin"], pathParams: ["id"], responses: { "204": "Removed", "404": ERR("No such subscription"), ...AUTHED } },
  },
  "/api/webhooks/deliveries": { get: { summary: "The delivery log, newest first (kept DELIVERY_RETENTION_DAYS)", tags: ["outbound webhooks"], access: ["admin"], query: crm.listDeliveries, responses: { "200": "{ items, nextCursor }", ...AUTHED } } },
  "/api/webhooks/deliveries/{id}/replay": { post: { summary: "Send a delivery again (same webhook-id)", tags: ["outbound webhooks"], access: ["admin"], pathParams: ["id"], responses: { "200": "{ id, status }", "404": ERR("No such delivery"), ...AUTHED } } },
  "/api/inbox/deliveries": {
    get: {
      summary: "Provider deliveries not applied yet, newest first: failed (the default), deferred or pending",
      tags: ["webhooks"],
      access: ["admin"],
      query: listInboxQuery,
      responses: { "200": "{ items: [{ id, source, deliveryKey, status, attempts (every try, deferrals included), failures (ten park it as failed), lastError, receivedAt, availableAt }], nextCursor }", ...AUTHED },
    },
  },
  "/api/inbox/deliveries/{id}": { get: { summary: "One delivery, with the provider's payload as received", tags: ["webhooks"], access: ["admin"], pathParams: ["id"], responses: { "200": "The delivery and its payload", "404": ERR("No such delivery"), ...AUTHED } } },
  "/api/inbox/deliveries/{id}/retry": {
    post: {
      summary: "Apply a failed or deferred delivery again, its attempts and failures counted afresh",
      tags: ["webhooks"],
      access: ["admin"],
      pathParams: ["id"],
      responses: { "200": "The delivery, pending", "404": ERR("No such delivery"), "409": ERR("Applied, ignored or already pending"), ...AUTHED },
    },
  },
  "/api/reports/funnel": { get: { summary: "Deals opened in the period and how many reached each stage of a pipeline (format=csv)", tags: ["reports"], access: ["supervisor", "marketer", "admin"], query: crm.funnel, responses: { "200": "{ from, to, pipeline, deals, items: [{ position, stage, kind, deals, conversion }] }", "404": ERR("No such pipeline"), ...AUTHED } } },
  "/api/reports/agents": { get: { summary: "Per agent: answered, missed while rung, average handle time, call-backs within SLA, median time to call back (format=csv)", tags: ["reports"], access: ["supervisor", "admin"], query: crm.period, responses: { "200": "{ from, to, items }", ...AUTHED } } },
  "/api/reports/missed-calls": { get: { summary: "Missed calls and their call-backs: within SLA, late, never, open (format=csv)", tags: ["reports"], access: ["supervisor", "admin"], query: crm.period, responses: { "200": "{ from, to, items, withinSlaRate }", ...AUTHED } } },
  "/api/reports/pools": { get: { summary: "Per pool: peak leases, exhaustions, recommended size", tags: ["reports"], access: ["marketer", "admin"], query: poolQuerySchema, responses: { "200": "{ from, to, items }", ...AUTHED } } },
};

function queryParameters(schema: z.ZodObject): Json[] {
  const js = jsonSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({ name, in: "query", required: js.required?.includes(name) ?? false, schema: s }));
}

function operation(method: string, path: string, op: Operation): Json {
  const parameters = [
    ...(op.pathParams ?? []).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } })),
    ...(op.query ? queryParameters(op.query) : []),
    ...(op.headers ?? []).map((h) => ({ name: h.name, in: "header", required: h.required ?? false, description: h.description, schema: { type: "string" } })),
  ];
  const responses = Object.fromEntries(
    Object.entries(op.responses).map(([status, r]) => {
      if (typeof r === "string") return [status, { description: r }];
      const [description, schema] = r;
      return [status, { description, content: { "application/json": { schema: typeof schema === "string" ? ref(schema) : schema } } }];
    }),
  );
  const body = op.body instanceof z.ZodType ? jsonSchema(op.body) : op.body;
  return {
    operationId: `${method}${path.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ""))}`,
    summary: op.summary,
    tags: op.tags,
    ...(op.access === "public" || op.access === "signed" ? { security: [] } : { "x-roles": op.access }),
    ...(parameters.length ? { parameters } : {}),
    ...(body ? { requestBody: { required: true, content: { [op.bodyType ?? "application/json"]: { schema: body } } } } : {}),
    responses,
  };
}

let cached: Json | undefined;

export function openApiDocument(): Json {
  cached ??= {
    openapi: "3.1.0",
    info: {
      title: "callcenter-crm",
      version: "0.1.0",
      description:
        "Telephony-centric call-center CRM integration service. Realtime events (screen-pop, call:update, task:assigned, presence:set) are on Socket.IO at /socket.io; see the README.",
    },
    components: {
      schemas: COMPONENTS,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A token from POST /api/auth/login, or an API key (ck_…)" } },
    },
    security: [{ bearer: [] }],
    paths: Object.fromEntries(
      Object.entries(PATHS).map(([path, ops]) => [path, Object.fromEntries(Object.entries(ops).map(([method, op]) => [method, operation(method, path, op!)]))]),
    ),
  };
  return cached;
}

/** Every documented (method, path), for the test that each one is served. */
export const documentedRoutes = (): Array<{ method: string; path: string }> =>
  Object.entries(PATHS).flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method, path })));
