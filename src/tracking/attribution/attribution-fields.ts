/** The labels reports group by. Untrusted text, capped where it enters. */
export interface AttributionLabels {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
}

/** What any source of attribution (a static number, a website session, a tracker's report) can say about a call. */
export interface AttributionFields extends AttributionLabels {
  clickId: string | null;
  clickIdType: string | null;
  landingPage: string | null;
  referrer: string | null;
}
