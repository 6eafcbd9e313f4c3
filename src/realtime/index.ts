export * from "./entities";
export { Realtime, type ListenControl, type RealtimeDeps } from "./realtime.gateway";
export { listenRoom, roleRoom, userRoom } from "./rooms";
export { PopStore, purgePops } from "./pop-store";
export { OutboxDispatcher } from "./outbox-dispatcher";
export { PresenceReconciler } from "./presence-reconciler";
export type * from "./realtime-events";
