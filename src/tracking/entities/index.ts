import { CallAttribution } from "./call-attribution.entity";
import { TrackingNumber } from "./tracking-number.entity";
import { TrackingPoolExhaustion } from "./tracking-pool-exhaustion.entity";
import { TrackingPool } from "./tracking-pool.entity";
import { TrackingProviderCall } from "./tracking-provider-call.entity";
import { TrackingSession } from "./tracking-session.entity";

export * from "./call-attribution.entity";
export * from "./tracking-number.entity";
export * from "./tracking-pool-exhaustion.entity";
export * from "./tracking-pool.entity";
export * from "./tracking-provider-call.entity";
export * from "./tracking-session.entity";

export const trackingEntities = [TrackingPool, TrackingNumber, TrackingSession, TrackingPoolExhaustion, CallAttribution, TrackingProviderCall];
