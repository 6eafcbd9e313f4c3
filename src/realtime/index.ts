export * from "./entities";
export { Realtime, roleRoom, userRoom, type RealtimeDeps } from "./realtime.gateway";
export { PopStore } from "./pop-store";
export { OutboxDispatcher } from "./outbox-dispatcher";
export type * from "./realtime-events";
