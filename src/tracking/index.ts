export * from "./entities";
export { createTracking, type Tracking } from "./tracking.module";
export type { CallAttributionService } from "./attribution/call-attribution.service";
export { marketingReportsRouter, publicTrackingRouter, trackingAdminRouter } from "./tracking.router";
export { touchFrom, type Touch } from "./sessions/touch";
export { TRACKING_PROVIDERS, toProviderCall, type TrackingProvider } from "./providers/provider-call";
