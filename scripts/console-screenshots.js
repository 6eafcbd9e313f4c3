#!/usr/bin/env node
// Takes the README's console screenshots (docs/console-*.png) from a running demo instance:
// `npm start` in embedded mode with no Twilio account, then
//
//   node scripts/console-screenshots.js [--url http://localhost:3000]
//
// It signs in the two demo agents in headless Debian Chromium, plays calls with the simulator,
// and shoots the operator (a returning caller's pop), the supervisor (recordings, a player
// open) and the marketer (attribution by source) at 1280×800.
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const { parseArgs } = require("node:util");
const { chromium } = require("playwright-core");

const { values } = parseArgs({ options: { url: { type: "string", default: "http://localhost:3000" } } });
const url = values.url.replace(/\/+$/, "");
const dataDir = path.resolve(process.env.DATA_DIR ?? "./data");
const docs = path.join(__dirname, "..", "docs");
const simulate = (args, wait = true) => {
  const argv = [path.join(__dirname, "simulate.js"), "--url", url, ...args];
  if (wait) return execFileSync(process.execPath, argv, { stdio: "inherit" });
  return require("node:child_process").spawn(process.execPath, argv, { stdio: "inherit" });
};

async function main() {
  simulate(["--calls", "1", "--ring", "0", "--talk", "0"]); // seeds the demo users
  const { password } = JSON.parse(fs.readFileSync(path.join(dataDir, "demo-credentials.json"), "utf8"));
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const signIn = async (email, hash = "") => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${url}/${hash}`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator(".status.online").waitFor();
    return page;
  };
  try {
    const alice = await signIn("alice@example.com");
    await signIn("bob@example.com");
    simulate(["--calls", "21", "--ring", "300", "--talk", "200", "--delay", "20"]);
    // A fresh tab (no wrap-up cards left over) while a returning caller rings.
    const operator = await signIn("alice@example.com");
    const ringing = simulate(["--calls", "1", "--ring", "5000"], false);
    await operator.getByTestId("screen-pop").waitFor();
    await operator.waitForTimeout(500);
    await operator.screenshot({ path: path.join(docs, "console-operator.png") });
    await new Promise((r) => ringing.on("exit", r));
    await alice.close();

    const sue = await signIn("sue@example.com", "#/recordings");
    await sue.getByTestId("recordings").getByRole("button", { name: /Play/ }).first().click();
    await sue.getByTestId("recording-audio").waitFor();
    await sue.waitForTimeout(1000);
    await sue.screenshot({ path: path.join(docs, "console-supervisor.png") });

    const mark = await signIn("mark@example.com");
    await mark.getByTestId("attribution").waitFor();
    await mark.screenshot({ path: path.join(docs, "console-marketer.png") });
    console.log(`saved docs/console-{operator,supervisor,marketer}.png`);
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
