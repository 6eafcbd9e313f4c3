import { OutboxMessage } from "./outbox.entity";

export * from "./outbox.entity";

export const outboxEntities = [OutboxMessage];
