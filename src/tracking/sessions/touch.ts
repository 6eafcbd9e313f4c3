import { AppError } from "../../platform/errors";

/** What a website visit tells about where the caller came from. Every value is untrusted text. */
export interface Touch {
  source: string;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
  content: string | null;
  clickIdType: ClickIdType | null;
  clickId: string | null;
  landingPage: string;
  referrer: string | null;
  /** Carries utm_* or a click id: an ad or campaign click rather than organic navigation. */
  tagged: boolean;
}

export const CLICK_ID_TYPES = ["gclid", "fbclid", "msclkid", "yclid"] as const;
export type ClickIdType = (typeof CLICK_ID_TYPES)[number];

export const MAX_URL_LENGTH = 2048;
const MAX_VALUE_LENGTH = 200;

/** The ad network a click id belongs to, when the page carries no utm_source. */
const CLICK_SOURCES: Record<ClickIdType, { source: string; medium: string }> = {
  gclid: { source: "google", medium: "cpc" },
  msclkid: { source: "bing", medium: "cpc" },
  yclid: { source: "yandex", medium: "cpc" },
  fbclid: { source: "facebook", medium: "social" },
};

const SEARCH_ENGINES = ["google", "bing", "yahoo", "duckduckgo", "yandex", "baidu", "ecosia"];
const SOCIAL_SITES: Record<string, string> = {
  "facebook.com": "facebook",
  "instagram.com": "instagram",
  "linkedin.com": "linkedin",
  "t.co": "twitter",
  "twitter.com": "twitter",
  "x.com": "twitter",
  "tiktok.com": "tiktok",
  "youtube.com": "youtube",
  "reddit.com": "reddit",
};

/** Strips control characters and caps length: these values end up in reports and the console. */
export function cleanText(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  // eslint-disable-next-line no-control-regex
  const v = value.replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, MAX_VALUE_LENGTH);
  return v.length > 0 ? v : null;
}

export function parseWebUrl(raw: string, field: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("validation_failed", `${field} must be an absolute http(s) URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new AppError("validation_failed", `${field} must be an absolute http(s) URL`);
  }
  url.hash = "";
  if (url.href.length > MAX_URL_LENGTH) throw new AppError("validation_failed", `${field} is longer than ${MAX_URL_LENGTH} characters`);
  return url;
}

/** A referrer's site as a source name and medium (organic search, social, or a plain referral). */
function fromReferrer(ref: URL): { source: string; medium: string } {
  const host = ref.hostname.replace(/^www\./, "").toLowerCase();
  const engine = SEARCH_ENGINES.find((e) => host === `${e}.com` || host.startsWith(`${e}.`) || host.includes(`.${e}.`));
  if (engine) return { source: engine, medium: "organic" };
  const social = Object.entries(SOCIAL_SITES).find(([site]) => host === site || host.endsWith(`.${site}`));
  if (social) return { source: social[1], medium: "social" };
  return { source: host.slice(0, MAX_VALUE_LENGTH), medium: "referral" };
}

/**
 * The touch a landing page and referrer describe: utm_* first, then a click id's network, then
 * the referring site; nothing at all is a direct visit. A referrer on the landing page's own
 * site is navigation, not a source.
 */
export function touchFrom(landingPage: string, referrer?: string | null): Touch {
  const page = parseWebUrl(landingPage, "landingPage");
  const ref = referrer ? parseWebUrl(referrer, "referrer") : null;
  const q = page.searchParams;
  const clickIdType = CLICK_ID_TYPES.find((t) => cleanText(q.get(t))) ?? null;
  const clickId = clickIdType ? cleanText(q.get(clickIdType)) : null;
  const external = ref && ref.hostname !== page.hostname ? ref : null;

  const derived = clickIdType ? CLICK_SOURCES[clickIdType] : external ? fromReferrer(external) : { source: "(direct)", medium: "(none)" };
  const utmSource = cleanText(q.get("utm_source"));
  return {
    source: utmSource ?? derived.source,
    medium: cleanText(q.get("utm_medium")) ?? (utmSource ? null : derived.medium),
    campaign: cleanText(q.get("utm_campaign")),
    keyword: cleanText(q.get("utm_term")),
    content: cleanText(q.get("utm_content")),
    clickIdType,
    clickId,
    landingPage: page.href,
    referrer: ref?.href ?? null,
    tagged: utmSource !== null || clickIdType !== null,
  };
}
