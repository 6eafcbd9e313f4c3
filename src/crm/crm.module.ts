import { Router, type RequestHandler } from "express";
import type { DataSource } from "typeorm";
import { ApiKeysService } from "./api-keys/api-keys.service";
import { AuditService } from "./audit/audit.service";
import { requireAuth } from "./auth/auth.middleware";
import { authRouter } from "./auth/auth.router";
import { AuthService, type LockoutPolicy } from "./auth/auth.service";
import { TokenSigner } from "./auth/tokens";
import { UsersService } from "./users/users.service";
import { ContactsService } from "./contacts/contacts.service";
import { DealsService } from "./deals/deals.service";
import { CallerRecordsService } from "./callers/caller-records.service";
import { CallBackTasksService } from "./tasks/call-back-tasks.service";
import { AgentsService } from "./agents/agents.service";
import { PresenceService } from "./presence/presence.service";
import { CallContextService } from "./screen-pop/call-context.service";
import { ContactsQuery } from "./contacts/contacts.query";
import { ContactEditsService, type ContactMergeHook } from "./contacts/contact-edits.service";
import { ContactImportService } from "./contacts/contact-import.service";
import { contactsRouter } from "./contacts/contacts.router";
import { TasksService } from "./tasks/tasks.service";
import { DealsQuery } from "./deals/deals.query";
import { AuditQuery } from "./audit/audit.query";
import { NotesService } from "./notes/notes.service";
import { notesRouter } from "./notes/notes.router";
import { auditRouter } from "./audit/audit.router";
import { dealsRouter, pipelinesRouter } from "./deals/deals.router";
import { OperationsReports } from "./reports/operations-reports";
import { OutboundEvents } from "./outbound-webhooks/outbound-events";
import { OutboundWebhooksService } from "./outbound-webhooks/outbound-webhooks.service";
import { outboundWebhooksRouter } from "./outbound-webhooks/outbound-webhooks.router";
import { operationsReportsRouter } from "./reports/operations-reports.router";
import { DealEditsService } from "./deals/deal-edits.service";
import { tasksRouter } from "./tasks/tasks.router";
import { apiKeysRouter, usersRouter } from "./users/users.router";

export interface Crm {
  audit: AuditService;
  users: UsersService;
  apiKeys: ApiKeysService;
  auth: AuthService;
  contacts: ContactsService;
  deals: DealsService;
  callers: CallerRecordsService;
  callBackTasks: CallBackTasksService;
  agents: AgentsService;
  presence: PresenceService;
  callContext: CallContextService;
  contactsQuery: ContactsQuery;
  contactEdits: ContactEditsService;
  contactImport: ContactImportService;
  tasks: TasksService;
  dealsQuery: DealsQuery;
  dealEdits: DealEditsService;
  operationsReports: OperationsReports;
  /** Events for other systems, queued in the transaction that causes them. */
  outboundEvents: OutboundEvents;
  outboundWebhooks: OutboundWebhooksService;
  auditQuery: AuditQuery;
  notes: NotesService;
  /** Middleware that requires a valid bearer credential. */
  authenticated: RequestHandler;
}

export function createCrm(deps: { ds: DataSource; jwtSecret: string; jwtTtlMinutes: number; defaultRegion: string; onContactMerge: ContactMergeHook; lockout: LockoutPolicy }): Crm {
  const audit = new AuditService();
  const outboundEvents = new OutboundEvents();
  const users = new UsersService(deps.ds, audit);
  const apiKeys = new ApiKeysService(deps.ds, audit);
  const auth = new AuthService(users, apiKeys, new TokenSigner(deps.jwtSecret, deps.jwtTtlMinutes), deps.lockout);
  const contacts = new ContactsService(audit, outboundEvents);
  const deals = new DealsService(audit);
  return {
    audit,
    users,
    apiKeys,
    auth,
    contacts,
    deals,
    callers: new CallerRecordsService(contacts, deals),
    callBackTasks: new CallBackTasksService(audit),
    agents: new AgentsService(deps.ds),
    presence: new PresenceService(deps.ds),
    callContext: new CallContextService(deps.ds),
    contactsQuery: new ContactsQuery(deps.ds, deps.defaultRegion),
    contactEdits: new ContactEditsService(deps.ds, audit, deps.defaultRegion, deps.onContactMerge, outboundEvents),
    contactImport: new ContactImportService(deps.ds, audit, deps.defaultRegion, outboundEvents),
    tasks: new TasksService(deps.ds, audit),
    dealsQuery: new DealsQuery(deps.ds),
    dealEdits: new DealEditsService(deps.ds, audit, outboundEvents),
    operationsReports: new OperationsReports(deps.ds),
    outboundEvents,
    outboundWebhooks: new OutboundWebhooksService(deps.ds, audit, outboundEvents),
    auditQuery: new AuditQuery(deps.ds),
    notes: new NotesService(deps.ds, audit),
    authenticated: requireAuth(auth),
  };
}

/** Routes under /api owned by the CRM. */
export function crmApiRouter(crm: Crm, opts: { loginLimiter: RequestHandler }): Router {
  const r = Router();
  r.use("/auth", authRouter({ auth: crm.auth, users: crm.users, authenticated: crm.authenticated, loginLimiter: opts.loginLimiter }));
  r.use("/users", crm.authenticated, usersRouter({ users: crm.users }));
  r.use("/api-keys", crm.authenticated, apiKeysRouter({ apiKeys: crm.apiKeys }));
  r.use("/contacts", crm.authenticated, contactsRouter({ contacts: crm.contactsQuery, edits: crm.contactEdits, imports: crm.contactImport }));
  r.use("/tasks", crm.authenticated, tasksRouter({ tasks: crm.tasks }));
  r.use("/deals", crm.authenticated, dealsRouter({ deals: crm.dealsQuery, edits: crm.dealEdits }));
  r.use("/pipelines", crm.authenticated, pipelinesRouter({ edits: crm.dealEdits }));
  r.use("/reports", crm.authenticated, operationsReportsRouter({ reports: crm.operationsReports }));
  r.use("/webhooks", crm.authenticated, outboundWebhooksRouter({ webhooks: crm.outboundWebhooks }));
  r.use("/audit", crm.authenticated, auditRouter({ audit: crm.auditQuery }));
  r.use(notesRouter({ notes: crm.notes, authenticated: crm.authenticated }));
  return r;
}
