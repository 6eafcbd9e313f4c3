export * from "./entities";
export { listenRoom, Realtime, roleRoom, userRoom, type ListenControl, type RealtimeDeps } from "./realtime.gateway";
export { PopStore, purgePops } from "./pop-store";
export { OutboxDispatcher } from "./outbox-dispatcher";
export { PresenceReconciler } from "./presence-reconciler";
export type * from "./realtime-events";
