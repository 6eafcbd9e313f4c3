export * from "./entities";
export { createTracking, type Tracking } from "./tracking.module";
export type { CallAttributionService } from "./attribution/call-attribution.service";
export { marketingReportsRouter, publicTrackingRouter, trackingAdminRouter } from "./tracking.router";
export { TRACKING_PROVIDERS, toProviderCall, type TrackingProvider } from "./providers/provider-call";
export { genericTrackingSchema, callRailSchema } from "./providers/provider-call";
export { sessionRequestSchema } from "./sessions/tracking-sessions.service";
export { newNumberSchema, newPoolSchema, poolPatchSchema } from "./numbers/tracking-numbers.service";
export { attributionQuerySchema, poolQuerySchema } from "./reports/marketing-reports";
