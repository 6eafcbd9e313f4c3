import { z } from "zod";

/**
 * One call event as a PBX (Asterisk, FreeSWITCH, 3CX...) posts it to POST /webhooks/pbx, signed
 * per Standard Webhooks. Unlike Twilio's callbacks this is our own contract: unknown fields are
 * refused, so a typo in a PBX script fails loudly instead of being silently dropped.
 * Documented in docs/pbx-webhook.md — keep the two in step.
 */

export const PBX_EVENT_TYPES = ["ringing", "answered", "ended", "recording"] as const;
export type PbxEventType = (typeof PBX_EVENT_TYPES)[number];

export const pbxRecordingSchema = z
  .object({
    /** The PBX's id of the recording (file name, uuid...). */
    id: z.string().min(1).max(200),
    /** Where the PBX keeps the file: stored as a reference, never fetched on the request. */
    url: z.url({ protocol: /^https$/, error: "must be an https URL" }).max(2000).optional(),
    durationSec: z.int().min(0).optional(),
    channels: z.union([z.literal(1), z.literal(2)]).optional(),
  })
  .strict();

export const pbxEventSchema = z
  .object({
    /** The PBX's own id of this event (kept for tracing; the dedupe key is the webhook-id header). */
    eventId: z.string().min(1).max(200),
    /** The PBX's id of the customer-facing call; every event of one call carries the same one. */
    callId: z.string().min(1).max(200),
    type: z.enum(PBX_EVENT_TYPES),
    direction: z.enum(["inbound", "outbound"]),
    from: z.string().min(1).max(100),
    to: z.string().min(1).max(100),
    /** Who answered / was rung: a user email, a dial target (client:alice, +1555...) or an extension. */
    agent: z.string().min(1).max(200).optional(),
    occurredAt: z.iso.datetime({ offset: true }),
    durationSec: z.int().min(0).max(86_400).optional(),
    callerName: z.string().max(200).optional(),
    trackingNumber: z.string().max(40).optional(),
    recording: pbxRecordingSchema.optional(),
    /** Only read on "ended": whether the call was answered (for PBXs that send no "answered" event). */
    answered: z.boolean().optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.type === "recording" && !e.recording) {
      ctx.addIssue({ code: "custom", path: ["recording"], message: 'is required when type is "recording"' });
    }
    if (e.type !== "recording" && e.recording) {
      ctx.addIssue({ code: "custom", path: ["recording"], message: `is only allowed when type is "recording" (type is "${e.type}")` });
    }
  });

export type PbxEvent = z.infer<typeof pbxEventSchema>;
