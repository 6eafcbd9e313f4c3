export * from "./entities";
export { countPendingInbox } from "./inbox.repository";
