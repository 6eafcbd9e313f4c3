import { InboxItem } from "./inbox.entity";

export * from "./inbox.entity";

export const webhooksEntities = [InboxItem];
