import { ApiKey } from "./api-key.entity";
import { AuditLogEntry } from "./audit-log.entity";
import { ContactPhone } from "./contact-phone.entity";
import { Contact } from "./contact.entity";
import { DealStageHistory } from "./deal-stage-history.entity";
import { Deal } from "./deal.entity";
import { Note } from "./note.entity";
import { PipelineStage } from "./pipeline-stage.entity";
import { Pipeline } from "./pipeline.entity";
import { Task } from "./task.entity";
import { User } from "./user.entity";
import { WebhookDelivery } from "./webhook-delivery.entity";
import { WebhookSubscription } from "./webhook-subscription.entity";

export * from "./api-key.entity";
export * from "./audit-log.entity";
export * from "./contact-phone.entity";
export * from "./contact.entity";
export * from "./deal-stage-history.entity";
export * from "./deal.entity";
export * from "./note.entity";
export * from "./pipeline-stage.entity";
export * from "./pipeline.entity";
export * from "./task.entity";
export * from "./user.entity";
export * from "./webhook-delivery.entity";
export * from "./webhook-subscription.entity";

export const crmEntities = [
  User,
  ApiKey,
  Contact,
  ContactPhone,
  Pipeline,
  PipelineStage,
  Deal,
  DealStageHistory,
  Task,
  Note,
  AuditLogEntry,
  WebhookSubscription,
  WebhookDelivery,
];
