export { createCrm, crmApiRouter, type Crm } from "./crm.module";
export { requireRole } from "./auth/auth.middleware";
export type { Principal } from "./auth/principal";
export { actorOf, type Actor, type AuditService } from "./audit/audit.service";
export { hashPassword, verifyPassword } from "./auth/passwords";
export { newUserSchema, type PublicUser } from "./users/users.service";
export * from "./entities";
