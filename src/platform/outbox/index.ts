import { OutboxMessage } from "./outbox.entity";

export * from "./outbox.entity";
export { addToOutbox, purgeDispatched, type OutboxTopic, type OutboxTopics } from "./outbox";

export const outboxEntities = [OutboxMessage];
