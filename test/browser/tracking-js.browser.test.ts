import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { describeInBrowser, launchChromium, serveSite } from "../support/browser";
import { startTestService, type TestService } from "../support/test-service";

const PRINTED = "(500) 555-0100";
const POOL_NUMBER = "+15005550201";

/** Evaluated in the page (this file is compiled without DOM types). */
const LATE_NUMBER_SWAPPED = `document.getElementById("late")?.textContent.includes("0201")`;

const landingPage = (scriptSrc: string) => `<!doctype html>
<html><body>
  <p id="text">Call us at ${PRINTED} today</p>
  <a id="link" href="tel:+15005550100">+1 500-555-0100</a>
  <p id="other">Fax: (500) 555-0199</p>
  <script src="${scriptSrc}" data-pool="web" data-number="${PRINTED}"></script>
  <script>
    // Content a site adds later (a popup, a single-page app's view).
    setTimeout(function () {
      var p = document.createElement("p");
      p.id = "late";
      p.textContent = "Or dial 500.555.0100";
      document.body.appendChild(p);
    }, 300);
  </script>
</body></html>`;

describeInBrowser("tracking.js in Chromium", () => {
  let svc: TestService;
  let browser: Browser;
  let site: Awaited<ReturnType<typeof serveSite>>;

  beforeAll(async () => {
    svc = await startTestService({ role: "web" });
    const admin = (await svc.signIn("admin")).token;
    await svc.http.post("/api/tracking/numbers").set("authorization", `Bearer ${admin}`).send({ number: POOL_NUMBER, pool: "web" }).expect(201);
    const script = readFileSync(join(__dirname, "..", "..", "public", "tracking.js"), "utf8");
    site = await serveSite({
      "/tracked.html": { type: "text/html", body: landingPage(`${svc.url}/tracking.js`) },
      // The same snippet served by a host with no tracking service behind it.
      "/tracking.js": { type: "application/javascript", body: script },
      "/offline.html": { type: "text/html", body: landingPage("/tracking.js") },
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await svc?.close();
  });

  it("swaps the printed number, a tel: link and a number added after load for the leased one, keeping each format", async () => {
    const page = await browser.newPage();
    await page.goto(`${site.url}/tracked.html?utm_source=google&utm_medium=cpc&utm_term=widgets&gclid=abc`);
    await page.waitForFunction(LATE_NUMBER_SWAPPED);
    expect(await page.textContent("#text")).toBe("Call us at (500) 555-0201 today");
    expect(await page.getAttribute("#link", "href")).toBe(`tel:${POOL_NUMBER}`);
    expect(await page.textContent("#link")).toBe("+1 500-555-0201");
    expect(await page.textContent("#late")).toBe("Or dial 500.555.0201");
    expect(await page.textContent("#other")).toBe("Fax: (500) 555-0199");

    const sessions = await svc.container.ds.query(`SELECT id, utm_source, utm_term, click_id, first_touch FROM tracking_sessions`);
    expect(sessions).toEqual([expect.objectContaining({ utm_source: "google", utm_term: "widgets", click_id: "abc" })]);
    expect(sessions[0].first_touch).toMatchObject({ source: "google", keyword: "widgets" });

    // A returning visit (a reload) keeps its session and its number.
    await page.reload();
    await page.waitForFunction(LATE_NUMBER_SWAPPED);
    expect(await svc.container.ds.query(`SELECT id FROM tracking_sessions`)).toEqual([{ id: sessions[0].id }]);
    await page.close();
  });

  it("leaves the page's own number when the service cannot be reached", async () => {
    const page = await browser.newPage();
    const failed = page.waitForResponse((r) => r.url().endsWith("/api/tracking/sessions"));
    await page.goto(`${site.url}/offline.html`);
    expect((await failed).status()).toBe(404);
    await page.waitForSelector("#late");
    expect(await page.textContent("#text")).toBe(`Call us at ${PRINTED} today`);
    expect(await page.textContent("#late")).toBe("Or dial 500.555.0100");
    await page.close();
  });
});
