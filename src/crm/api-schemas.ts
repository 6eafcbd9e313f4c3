import { newApiKeySchema } from "./api-keys/api-keys.service";
import { auditQuery } from "./audit/audit.query";
import { loginSchema } from "./auth/auth.service";
import { listContactsQuery } from "./contacts/contacts.query";
import { contactPatchSchema, mergeContactSchema, newContactSchema } from "./contacts/contact-edits.service";
import { listDealsQuery } from "./deals/deals.query";
import { dealPatchSchema, newDealSchema, newPipelineSchema } from "./deals/deal-edits.service";
import { dispositionBody, noteBody } from "./notes/notes.service";
import { listTasksQuery, patchTaskBody } from "./tasks/tasks.service";
import { newUserSchema, userPatchSchema } from "./users/users.service";
import { funnelQuerySchema, periodQuerySchema } from "./reports/operations-reports";
import { listDeliveriesQuery, newSubscriptionSchema, subscriptionPatchSchema } from "./outbound-webhooks/outbound-webhooks.service";

/** The schemas the CRM's routes validate with: the OpenAPI document is generated from these. */
export const apiSchemas = {
  login: loginSchema,
  newUser: newUserSchema,
  patchUser: userPatchSchema,
  newApiKey: newApiKeySchema,
  listContacts: listContactsQuery,
  newContact: newContactSchema,
  patchContact: contactPatchSchema,
  mergeContact: mergeContactSchema,
  listDeals: listDealsQuery,
  newDeal: newDealSchema,
  patchDeal: dealPatchSchema,
  newPipeline: newPipelineSchema,
  listTasks: listTasksQuery,
  patchTask: patchTaskBody,
  note: noteBody,
  disposition: dispositionBody,
  audit: auditQuery,
  funnel: funnelQuerySchema,
  newSubscription: newSubscriptionSchema,
  patchSubscription: subscriptionPatchSchema,
  listDeliveries: listDeliveriesQuery,
  period: periodQuerySchema,
};
