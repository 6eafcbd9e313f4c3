import { z } from "zod";
import { parsePhone } from "../../crm";
import type { AttributionFields } from "../attribution/attribution-fields";
import { CLICK_ID_TYPES, cleanText, MAX_URL_LENGTH } from "../sessions/touch";

export const TRACKING_PROVIDERS = ["generic", "callrail"] as const;
export type TrackingProvider = (typeof TRACKING_PROVIDERS)[number];

/** A call-tracking provider's view of one call, provider-neutral; every text value untrusted and capped. */
export interface ProviderCall extends AttributionFields {
  provider: TrackingProvider;
  providerCallId: string;
  /** The telephony provider's id of the same call (e.g. a Twilio CallSid), when the tracker knows it. */
  telephonyCallId: string | null;
  /** E.164, or null when withheld or unreadable. */
  caller: string | null;
  trackingNumber: string | null;
  /** Where the tracker forwarded the call (our telephony number), when it says. */
  businessNumber: string | null;
  startedAt: Date;
  firstCall: boolean | null;
}

const label = z.string().max(500).optional();
const url = z.string().max(MAX_URL_LENGTH).optional();
const phone = z.string().max(64).optional();

/** The generic tracker event (docs/tracking-webhook.md): strict, unknown fields refused. */
export const genericTrackingSchema = z
  .object({
    callId: z.string().trim().min(1).max(200),
    telephonyCallId: z.string().trim().min(1).max(200).optional(),
    caller: phone,
    trackingNumber: z.string().min(3).max(64),
    businessNumber: phone,
    startedAt: z.iso.datetime({ offset: true }),
    source: label,
    medium: label,
    campaign: label,
    keyword: label,
    clickId: label,
    clickIdType: z.enum([...CLICK_ID_TYPES, "other"]).optional(),
    landingPage: url,
    referrer: url,
    firstCall: z.boolean().optional(),
  })
  .strict();

const nullableText = z.string().max(MAX_URL_LENGTH).nullish();

/**
 * The fields of CallRail's post-call and call-modified webhooks that we read. CallRail adds
 * fields over time, so others are allowed (and kept in the inbox's raw payload).
 */
export const callRailSchema = z
  .looseObject({
    id: z.union([z.string().max(200), z.number()]).optional(),
    resource_id: z.union([z.string().max(200), z.number()]).optional(),
    direction: nullableText,
    customer_phone_number: nullableText,
    tracking_phone_number: nullableText,
    business_phone_number: nullableText,
    start_time: z.iso.datetime({ offset: true }),
    source: nullableText,
    source_name: nullableText,
    medium: nullableText,
    campaign: nullableText,
    keywords: nullableText,
    utm_source: nullableText,
    utm_medium: nullableText,
    utm_campaign: nullableText,
    utm_term: nullableText,
    landing_page_url: nullableText,
    referring_url: nullableText,
    gclid: nullableText,
    fbclid: nullableText,
    msclkid: nullableText,
    first_call: z.boolean().nullish(),
  })
  .refine((c) => c.id !== undefined || c.resource_id !== undefined, { message: "id or resource_id is required", path: ["id"] });

export type GenericTrackingEvent = z.infer<typeof genericTrackingSchema>;
export type CallRailEvent = z.infer<typeof callRailSchema>;

const e164 = (raw: string | null | undefined, region: string): string | null => {
  const p = parsePhone(raw ?? undefined, region);
  return p.kind === "number" ? p.e164 : null;
};

/** A landing page or referrer kept only when it is an http(s) URL: it is shown to people later. */
const webUrl = (raw: string | null | undefined): string | null => {
  if (!raw) return null;
  try {
    const u = new URL(raw);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href.slice(0, MAX_URL_LENGTH) : null;
  } catch {
    return null;
  }
};

export function fromGeneric(e: GenericTrackingEvent, region: string): ProviderCall {
  return {
    provider: "generic",
    providerCallId: e.callId,
    telephonyCallId: e.telephonyCallId ?? null,
    caller: e164(e.caller, region),
    trackingNumber: e164(e.trackingNumber, region),
    businessNumber: e164(e.businessNumber, region),
    startedAt: new Date(e.startedAt),
    source: cleanText(e.source),
    medium: cleanText(e.medium),
    campaign: cleanText(e.campaign),
    keyword: cleanText(e.keyword),
    clickId: cleanText(e.clickId),
    clickIdType: e.clickId ? (e.clickIdType ?? "other") : null,
    landingPage: webUrl(e.landingPage),
    referrer: webUrl(e.referrer),
    firstCall: e.firstCall ?? null,
  };
}

/** CallRail's utm_* win over its own labels; `keywords` is the paid keyword. Outbound calls carry no source: null. */
export function fromCallRail(e: CallRailEvent, region: string): ProviderCall | null {
  if (e.direction && e.direction.toLowerCase() === "outbound") return null;
  const clickIdType = e.gclid ? "gclid" : e.fbclid ? "fbclid" : e.msclkid ? "msclkid" : null;
  return {
    provider: "callrail",
    providerCallId: String(e.id ?? e.resource_id),
    telephonyCallId: null,
    caller: e164(e.customer_phone_number, region),
    trackingNumber: e164(e.tracking_phone_number, region),
    businessNumber: e164(e.business_phone_number, region),
    startedAt: new Date(e.start_time),
    source: cleanText(e.utm_source ?? e.source_name ?? e.source),
    medium: cleanText(e.utm_medium ?? e.medium),
    campaign: cleanText(e.utm_campaign ?? e.campaign),
    keyword: cleanText(e.utm_term ?? e.keywords),
    clickId: clickIdType ? cleanText(e[clickIdType]) : null,
    clickIdType,
    landingPage: webUrl(e.landing_page_url),
    referrer: webUrl(e.referring_url),
    firstCall: e.first_call ?? null,
  };
}

/** Validates a provider's JSON (throws a ZodError → 400) into its provider-neutral form. */
export function toProviderCall(provider: TrackingProvider, json: unknown, region: string): ProviderCall | null {
  return provider === "generic" ? fromGeneric(genericTrackingSchema.parse(json), region) : fromCallRail(callRailSchema.parse(json), region);
}
