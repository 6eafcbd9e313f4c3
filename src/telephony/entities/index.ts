import { CallEventRecord } from "./call-event.entity";
import { CallLeg } from "./call-leg.entity";
import { Call } from "./call.entity";
import { Recording } from "./recording.entity";

export * from "./call-event.entity";
export * from "./call-leg.entity";
export * from "./call.entity";
export * from "./recording.entity";

export const telephonyEntities = [Call, CallLeg, CallEventRecord, Recording];
