export * from "./entities";
export type * from "./call-event";
export { createTelephony, type Telephony, type TelephonyConfig } from "./telephony.module";
export { CallRouter, MAX_SIMULTANEOUS, type RoutingDecision } from "./routing/call-router";
export { renderTwiml, type TwimlTexts } from "./twilio/twiml";
export {
  decodeTwilioDelivery,
  twilioDeliveryKey,
  twilioLane,
  validateTwilioParams,
  type TwilioDelivery,
  type TwilioParams,
  type TwilioQuery,
  type TwilioRoute,
} from "./twilio/twilio.adapter";
export type { CallIngestService, IngestResult } from "./ingest/call-ingest.service";
export { finalizeStaleRingingCalls } from "./ingest/stale-calls";
export { pbxEventSchema, type PbxEvent } from "./pbx/pbx-event.schema";
export { pbxToCallEvents } from "./pbx/pbx.adapter";
export { callsRouter } from "./calls.router";
export { listCallsQuery } from "./calls.query";
export { DEMO_ACCOUNT_SID, DEMO_TWILIO_PATH, demoMediaRouter } from "./recordings/demo-media.router";
export { clickToCallBody, type ClickToCallService } from "./outbound/click-to-call.service";
export { attachMediaStreams, type AudioFrame } from "./listening/media-stream.server";
export { LiveListening, MEDIA_STREAM_PATH } from "./listening/live-listening.service";
export { demoCallsRouter } from "./demo/demo-calls.router";
