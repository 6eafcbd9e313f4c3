import express from "express";
import { mkdirSync, mkdtempSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { io as connect, type Socket } from "socket.io-client";
import twilio from "twilio";
import WebSocket from "ws";
import { Simulator } from "../../scripts/simulator";
import { demoMediaRouter } from "../../src/telephony";
import { describeInBrowser, launchChromium } from "../support/browser";
import { as } from "../support/http";
import { startTestService, TEST_PUBLIC_URL, TEST_TWILIO, type TestService } from "../support/test-service";
import { drainInbox, newCall, postSigned, recording, sid, voice } from "../support/twilio";
import { waitFor } from "../support/wait-for";

const PASSWORD = "correct horse battery";
/** A caller's name is data from outside: it must show as text, never as markup. */
const HOSTILE_NAME = `<img src=x onerror="document.title='pwned'">`;
/** CONSOLE_SCREENSHOTS=docs saves the three views (README); off in CI so a run changes no files. */
const SHOTS = process.env.CONSOLE_SCREENSHOTS;
const STREAM_SID = `MZ${"5".repeat(32)}`;

describeInBrowser("the console in Chromium", () => {
  let svc: TestService;
  let media: Server;
  let browser: Browser;
  let sim: Simulator;
  const sockets: Socket[] = [];
  const placed: Array<Record<string, string>> = [];
  const streams: Array<{ callSid: string; url: string }> = [];

  beforeAll(async () => {
    // Recording media as Twilio serves it (Basic auth, Range), on loopback.
    const dir = mkdtempSync(join(tmpdir(), "console-media-"));
    mkdirSync(dir, { recursive: true });
    // …and its Calls resource, for click-to-call (the requests are kept to check).
    const app = express()
      .use(demoMediaRouter({ ...TEST_TWILIO, dir }))
      .post(`/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Calls.json`, express.urlencoded({ extended: false }), (req, res) => {
        placed.push(req.body as Record<string, string>);
        res.status(201).json({ sid: `CA${"c".repeat(32)}`, status: "queued" });
      })
      .post(`/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Calls/:callSid/Streams.json`, express.urlencoded({ extended: false }), (req, res) => {
        streams.push({ callSid: String(req.params.callSid), url: String((req.body as Record<string, string>).Url) });
        res.status(201).json({ sid: STREAM_SID, status: "in-progress" });
      })
      .post(`/2010-04-01/Accounts/${TEST_TWILIO.accountSid}/Calls/:callSid/Streams/:sid.json`, (_req, res) => {
        res.json({ sid: STREAM_SID, status: "stopped" });
      });
    media = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    svc = await startTestService({ env: { TWILIO_API_BASE: `http://127.0.0.1:${(media.address() as AddressInfo).port}` } });
    sim = new Simulator({ url: svc.url!, publicUrl: TEST_PUBLIC_URL, authToken: TEST_TWILIO.authToken, accountSid: TEST_TWILIO.accountSid });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    await browser?.close();
    await svc?.close();
    await new Promise((r) => media?.close(r));
  });

  async function user(role: "agent" | "supervisor" | "marketer" | "admin", name: string, dialTarget?: string) {
    const u = await svc.signIn(role, { dialTarget });
    await svc.container.ds.query(`UPDATE users SET name = $2 WHERE id = $1`, [u.userId, name]);
    return u;
  }

  /** An agent with a softphone but no console: connected, so available and rung. */
  async function agentSocket(token: string): Promise<Socket> {
    const s = connect(svc.url!, { auth: { token }, transports: ["websocket"], reconnection: false });
    sockets.push(s);
    s.on("screen-pop", (_pop, ack) => ack?.({ ok: true }));
    await new Promise<void>((resolve, reject) => (s.once("connect", resolve), s.once("connect_error", reject)));
    // Connected is not yet available: the service records that just after the handshake.
    const userId = (await svc.container.crm.auth.authenticateToken(token))!.principal.id;
    await waitFor(async () => (await svc.container.ds.query(`SELECT presence FROM users WHERE id = $1`, [userId]))[0]?.presence === "available", {
      what: "the agent available",
    });
    return s;
  }

  async function signInPage(email: string, hash = ""): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${svc.url}/${hash}`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".status.online").waitFor();
    return page;
  }

  it("operator: the pop shows while ringing and goes when a colleague answers; a missed call becomes a task that is then done", async () => {
    const alice = await user("agent", "Alice Agent", "client:alice");
    const bob = await user("agent", "Bob Agent", "client:bob");
    const bobSocket = await agentSocket(bob.token);
    const page = await signInPage(alice.email);
    await waitFor(() => page.getByTestId("availability").isChecked(), { what: "Alice shown as available" });

    // Both available agents are rung; Alice sees the pop, with the caller's name as text.
    const call = await sim.incoming("+14155550101", { name: HOSTILE_NAME });
    expect(call.ringing.sort()).toEqual(["client:alice", "client:bob"]);
    const pop = page.getByTestId("screen-pop");
    await pop.waitFor();
    expect(await pop.locator("h2").textContent()).toBe(HOSTILE_NAME);
    expect(await pop.locator("img").count()).toBe(0);
    expect(await pop.locator(".badge.new").textContent()).toBe("New caller");
    if (SHOTS) await page.screenshot({ path: join(SHOTS, "console-operator.png") });

    await call.answer("client:bob");
    await pop.waitFor({ state: "detached" });
    await page.getByText("answered by a colleague").waitFor();
    await call.hangUp(30);

    // Bob steps away: the next call rings Alice alone, nobody answers, the call-back is hers.
    await new Promise((resolve) => bobSocket.emit("presence:set", { status: "away" }, resolve));
    const missed = await sim.incoming("+14155550102", { name: "Grace Hopper" });
    expect(missed.ringing).toEqual(["client:alice"]);
    await pop.waitFor();
    await missed.miss();
    await pop.waitFor({ state: "detached" });
    const task = page.getByTestId("tasks").locator("tr", { hasText: "Grace Hopper" });
    await task.waitFor();
    expect(await task.textContent()).toContain("+14155550102");

    // "Call back": the service rings Alice's phone first, to bridge Grace.
    await task.getByRole("button", { name: "Call back" }).click();
    await page.getByText("Calling you now: pick up, and we ring Grace Hopper").waitFor();
    expect(placed.at(-1)).toMatchObject({ To: "client:alice", From: "+15005550100" });
    expect(placed.at(-1)!.Twiml).toContain(">+14155550102</Number>");

    await task.getByRole("button", { name: "Done" }).click();
    await task.waitFor({ state: "detached" });
    const tasks = await as(svc, alice.token).get("/api/tasks?status=done").expect(200);
    expect(tasks.body.items).toEqual([expect.objectContaining({ type: "call_back", status: "done", contactName: "Grace Hopper" })]);
    expect(await page.title()).not.toBe("pwned");
    await page.close();
  }, 60_000);

  it("operator: after answering, the same card takes a disposition and a note", async () => {
    const carol = await user("agent", "Carol Agent", "client:carol");
    const page = await signInPage(carol.email);
    const call = await sim.incoming("+14155550103", { name: "Alan Turing" });
    expect(call.ringing).toContain("client:carol");
    await call.answer("client:carol");
    const card = page.locator(".pop.on-call");
    await card.waitFor();
    await card.getByLabel("Disposition").selectOption("interested");
    await card.getByLabel("Note").fill("Wants a quote for 40 units");
    await card.getByRole("button", { name: "Save" }).click();
    await card.waitFor({ state: "detached" });
    const [row] = await svc.container.ds.query(
      `SELECT c.disposition, n.body FROM calls c JOIN notes n ON n.call_id = c.id WHERE c.provider_call_id = $1`,
      [call.callSid],
    );
    expect(row).toEqual({ disposition: "interested", body: "Wants a quote for 40 units" });
    await call.hangUp(40);

    // The contact page: found by name, its timeline holds the call, the deal and the note.
    await page.getByRole("link", { name: "Contacts" }).click();
    await page.getByLabel("Name, email or phone").fill("Alan");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: "Alan Turing" }).click();
    const timeline = page.getByTestId("timeline");
    await timeline.locator("li.note", { hasText: "Wants a quote for 40 units" }).waitFor();
    await timeline.locator("li.call", { hasText: "answered" }).waitFor();
    await timeline.locator("li.deal").waitFor();
    await page.getByLabel("Note", { exact: true }).fill("Sent the quote");
    await page.getByRole("button", { name: "Add note" }).click();
    await timeline.locator("li.note", { hasText: "Sent the quote" }).waitFor();
    await page.close();
  }, 60_000);

  it("supervisor: the live board, and a recording that loads and seeks", async () => {
    const dave = await user("agent", "Dave Agent", "client:dave");
    await agentSocket(dave.token);
    const sue = await user("supervisor", "Sue Supervisor");
    const page = await signInPage(sue.email);
    await page.getByTestId("agents").getByText("Dave Agent").waitFor();

    const call = await sim.incoming("+14155550104", { name: "Katherine Johnson" });
    const live = page.getByTestId("live-calls").locator("tr", { hasText: "Katherine Johnson" });
    await live.locator(".badge.ringing").waitFor();
    await call.answer("client:dave");
    await live.locator(".badge.in-progress").waitFor();
    expect(await live.textContent()).toContain("Dave Agent");

    // Listening in: the call's audio, as Twilio streams it, plays in the page.
    await live.getByRole("button", { name: /Listen/ }).click();
    await waitFor(() => streams.length > 0, { what: "a stream started at Twilio" });
    const path = new URL(streams.at(-1)!.url).pathname + new URL(streams.at(-1)!.url).search;
    const signature = twilio.getExpectedTwilioSignature(TEST_TWILIO.authToken, streams.at(-1)!.url, {});
    const ws = new WebSocket(`${svc.url!.replace(/^http/, "ws")}${path}`, { headers: { "x-twilio-signature": signature } });
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    ws.send(JSON.stringify({ event: "start", streamSid: STREAM_SID, start: { streamSid: STREAM_SID, callSid: call.callSid } }));
    for (let i = 0; i < 50; i++) {
      for (const track of ["inbound", "outbound"]) {
        const tone = Buffer.alloc(160, i % 2 ? 0x10 : 0x90);
        ws.send(JSON.stringify({ event: "media", streamSid: STREAM_SID, media: { track, chunk: String(i + 1), timestamp: String(i * 20), payload: tone.toString("base64") } }));
      }
    }
    const listening = live.getByTestId("listening");
    await waitFor(async () => Number(await listening.getAttribute("data-inbound")) === 8000 && Number(await listening.getAttribute("data-outbound")) === 8000, {
      what: "one second of each track played",
    });
    expect(await listening.textContent()).toBe("1 s");
    await live.getByRole("button", { name: /Stop/ }).click();
    await live.getByRole("button", { name: /Listen/ }).waitFor();
    ws.close();
    await call.hangUp(95);
    await live.waitFor({ state: "detached" });
    await drainInbox(svc);

    await page.getByRole("link", { name: "Recordings" }).click();
    const row = page.getByTestId("recordings").locator("tr", { hasText: "Katherine Johnson" });
    await row.getByRole("button", { name: /Play/ }).click();
    const audio = row.getByTestId("recording-audio");
    await audio.waitFor();
    // Metadata loaded through the service (link token, Range); then a seek lands where asked.
    await waitFor(() => audio.evaluate((a: { readyState: number; duration: number }) => a.readyState >= 1 && a.duration > 20), { what: "audio metadata" });
    const seeked = await audio.evaluate(
      (a: { currentTime: number; pause(): void; addEventListener(e: string, f: () => void, o: object): void }) =>
        new Promise<number>((resolve) => {
          a.pause();
          a.addEventListener("seeked", () => resolve(a.currentTime), { once: true });
          a.currentTime = 15;
        }),
    );
    expect(seeked).toBeCloseTo(15, 0);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, "console-supervisor.png") });
    await page.close();
  }, 60_000);

  it("marketer: the calls' sources in the report, as a table, a chart and a CSV file", async () => {
    const admin = await user("admin", "Admin");
    await as(svc, admin.token).post("/api/tracking/numbers", { number: "+15005550301", source: "yelp", medium: "directory", campaign: "listing" }).expect(201);
    const erin = await user("agent", "Erin Agent", "client:erin");
    await agentSocket(erin.token);
    for (const from of ["+14155550105", "+14155550106"]) {
      const call = await sim.incoming(from, { to: "+15005550301" });
      await call.answer("client:erin");
      await call.hangUp(60);
      await drainInbox(svc); // Erin is free again (presence follows the ingest) before the next call
    }
    await drainInbox(svc);

    const mark = await user("marketer", "Mark Marketer");
    const page = await signInPage(mark.email);
    const yelp = page.getByTestId("attribution").locator("tbody tr", { hasText: "yelp" });
    await yelp.waitFor();
    expect(await yelp.locator("td").nth(1).textContent()).toBe("2");
    await page.getByTestId("attribution-chart").getByText("yelp").waitFor();
    if (SHOTS) await page.screenshot({ path: join(SHOTS, "console-marketer.png") });

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^attribution-source-.*\.csv$/);
    await page.close();
  }, 60_000);

  it("admin: a parked delivery shows with its error and payload, and a retry applies it once its call has come", async () => {
    const c = newCall("+14155550909");
    const recSid = sid("RE");
    await postSigned(svc, recording(c, recSid)).expect(204);
    const inboxOf = async () => (await svc.container.ds.query(`SELECT id, status FROM inbox WHERE payload->'params'->>'RecordingSid' = $1`, [recSid]))[0];
    await waitFor(async () => (await inboxOf())?.status === "deferred", { what: "deferred: no such call yet" });
    const { id } = await inboxOf();
    // As the processor leaves a recording whose call never came in time.
    await svc.container.ds.query(`UPDATE inbox SET status = 'failed', attempts = 12, failures = 10, last_error = 'the call never came' WHERE id = $1`, [id]);

    const ada = await user("admin", "Ada Admin");
    const page = await signInPage(ada.email, "#/deliveries");
    const row = page.getByTestId("deliveries").locator(`tr[data-delivery-id="${id}"]`);
    await row.getByText("the call never came").waitFor();
    expect(await row.locator("td").nth(1).textContent()).toBe("twilio.recording");
    await row.getByRole("button", { name: "Payload" }).click();
    await page.locator("pre.payload", { hasText: recSid }).waitFor();

    await postSigned(svc, voice(c)).expect(200); // the call comes after all
    await row.getByRole("button", { name: "Retry" }).click();
    await page.getByText("The twilio.recording delivery is queued again.").waitFor();
    await row.waitFor({ state: "detached" });
    await waitFor(async () => (await inboxOf())?.status === "done", { what: "the retried recording applied", timeoutMs: 15_000 });
    await page.close();
  }, 60_000);

  it("signs in and moves around with the keyboard alone, says when it is offline, and a narrow window reaches every page", async () => {
    const fay = await user("supervisor", "Fay Supervisor");
    const page = await browser.newPage({ viewport: { width: 420, height: 800 } });
    await page.goto(`${svc.url}/`);
    // The email field takes the focus on arrival (once rendered); Tab moves on, Enter submits.
    await page.waitForFunction(`document.activeElement && document.activeElement.getAttribute("name") === "email"`);
    await page.keyboard.type(fay.email);
    await page.keyboard.press("Tab");
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press("Enter");
    await page.locator(".status.online").waitFor();
    await page.keyboard.press("Tab"); // the skip link comes first
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement.textContent")).toBe("Live board");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.locator("main h1", { hasText: "Recordings" }).waitFor();
    for (const name of ["Live board", "Recordings", "Call-backs & agents", "Contacts"]) {
      await page.getByRole("link", { name }).click();
      await page.locator("main h1").waitFor();
    }
    await page.context().setOffline(true);
    await page.getByTestId("offline").waitFor();
    await page.context().setOffline(false);
    await page.locator(".status.online").waitFor({ timeout: 15_000 });
    await page.close();
  }, 60_000);
});

