export * from "./entities";
export { countPendingInbox } from "./inbox.repository";
export { WebhookIntake } from "./intake.service";
export { InboxProcessor, type InboxHandler, type InboxOutcome } from "./inbox-processor";
export { sweepInbox } from "./sweeper";
export { twilioRouter, WEBHOOK_BODY_LIMIT } from "./twilio.router";
export { pbxRouter } from "./pbx.router";
export { signStandardWebhook, verifyStandardWebhook } from "./standard-webhooks";
