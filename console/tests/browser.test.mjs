// Browser test of the web console: a real `riposte serve` (temp store, random loopback port,
// a file source fed with a replayed sshd attack log) driven through Debian's headless Chromium
// with playwright-core. Logs in, watches an attack appear on the dashboard and become an
// incident (acknowledged from the Incidents page), switches to manual mode, approves a pending block, revokes a decision, checks the why chain, audit, rules, and a
// phone-sized dashboard; measures first paint; saves screenshots under --artifacts.
//
//   node console/tests/browser.test.mjs --riposte build/riposte --console build/console \
//        --fixture tests/fixtures/e2e/bruteforce.log --artifacts build/console-artifacts
//
// Exits 77 (skipped) when Chromium is absent.
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []),
);
const CHROMIUM = process.env.RIPOSTE_CHROMIUM ?? "/usr/bin/chromium";
const RIPOSTE = resolve(args.riposte ?? "build/riposte");
const CONSOLE = resolve(args.console ?? "build/console");
const FIXTURE = resolve(args.fixture ?? "tests/fixtures/e2e/bruteforce.log");
const ARTIFACTS = resolve(args.artifacts ?? "build/console-artifacts");
const ATTACKER_A = "203.0.113.5"; // the fixture's attacker
const ATTACKER_B = "203.0.113.77"; // the same attack replayed from another address
const USER = "admin";
const PASSWORD = "console-test-password";

if (!existsSync(CHROMIUM)) {
  console.log(`SKIP: chromium absent (${CHROMIUM}); install Debian's chromium (scripts/setup)`);
  process.exit(77);
}
for (const [what, p] of [["riposte binary", RIPOSTE], ["console build", join(CONSOLE, "index.html")], ["fixture", FIXTURE]]) {
  if (!existsSync(p)) {
    console.error(`missing ${what}: ${p} (build the riposte and console targets)`);
    process.exit(1);
  }
}

const { chromium } = await import("playwright-core");

const tmp = mkdtempSync(join(tmpdir(), "riposte-console-"));
const logFile = join(tmp, "auth.log");
const config = join(tmp, "riposte.yaml");
// A small rule file of our own next to the bundled rules: the rules test breaks it and reloads.
const localRules = join(tmp, "local-rules.yaml");
const LOCAL_RULES = `rules:
  - id: console-local-probe
    kinds: [auth]
    match:
      user.name: console-probe-user
    action: alert
`;
let server = null;
let serverLog = "";
let base = "";
let browser = null;
const pageErrors = [];
const fixtureLines = readFileSync(FIXTURE, "utf8");

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Toasts come and go; they are cleared so the page itself shows (an injected stylesheet
  // would be refused by the console's Content-Security-Policy).
  await page.evaluate(() => document.getElementById("toasts")?.replaceChildren());
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

function watchErrors(page, label) {
  page.on("pageerror", (e) => pageErrors.push(`${label}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) pageErrors.push(`${label}: console: ${m.text()}`);
  });
}

// JSON from the API with the page's session (cookie; reads need no CSRF token).
async function apiGet(page, path) {
  const r = await page.request.get(`${base}/api/v1${path}`);
  assert.equal(r.status(), 200, `GET ${path}: ${r.status()} ${await r.text()}`);
  return r.json();
}

async function waitForApi(page, path, pred, what, timeout = 15000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    last = await apiGet(page, path);
    if (pred(last)) return last;
    await sleep(200);
  }
  assert.fail(`${what}: last ${JSON.stringify(last)}`);
}

async function logIn(page) {
  await page.goto(base + "/");
  await page.getByLabel("User name").fill(USER);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
}

before(async () => {
  writeFileSync(logFile, "");
  writeFileSync(localRules, LOCAL_RULES);
  writeFileSync(
    config,
    `engine:
  log_level: info
  data_dir: ${tmp}
store:
  type: sqlite
  path: ${tmp}/riposte.db
sources:
  - name: auth
    type: file
    path: ${logFile}
    parser: sshd
    start_at: beginning
detectors:
  - name: rules
    type: rules
    paths: ["@bundled"]
  - name: local-rules
    type: rules
    paths: [${localRules}]
actions:
  - name: log
    type: log
    path: ${tmp}/actions.log
response:
  default_duration: 4h
  allowlist: [127.0.0.0/8, ::1]
api:
  listen: 127.0.0.1:0
  console_dir: ${CONSOLE}
`,
  );
  const add = spawnSync(RIPOSTE, ["user", "add", "--config", config, "--role", "admin", USER], { input: PASSWORD + "\n", encoding: "utf8" });
  assert.equal(add.status, 0, `riposte user add: ${add.stderr}`);

  server = spawn(RIPOSTE, ["serve", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  const port = await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`riposte serve did not report its port:\n${serverLog}`)), 20000);
    const onData = (d) => {
      serverLog += d.toString();
      const m = /api listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(serverLog);
      if (m) {
        clearTimeout(t);
        res(Number(m[1]));
      }
    };
    server.stdout.on("data", onData);
    server.stderr.on("data", onData);
    server.on("exit", (code) => rej(new Error(`riposte serve exited ${code}:\n${serverLog}`)));
  });
  base = `http://127.0.0.1:${port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => {
      const t = setTimeout(() => {
        server.kill("SIGKILL");
        r();
      }, 5000);
      server.on("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  }
  if (process.env.RIPOSTE_KEEP_TMP) console.log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
});

test("the console in a real browser against riposte serve", async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  watchErrors(page, "desktop");

  await t.test("first paint of the log-in page is under a second on loopback", async () => {
    // A cold load in a fresh browser context (no cache), three times; the median counts.
    const paint = async (p) => {
      await p.goto(base + "/");
      await p.getByRole("button", { name: "Log in" }).waitFor();
      return p.evaluate(() => {
        const fcp = performance.getEntriesByName("first-contentful-paint")[0];
        const nav = performance.getEntriesByType("navigation")[0];
        return { fcp: fcp?.startTime ?? null, dcl: nav?.domContentLoadedEventEnd ?? null, load: nav?.loadEventEnd ?? null };
      });
    };
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const c = await browser.newContext();
      runs.push(await paint(await c.newPage()));
      await c.close();
    }
    const fcps = runs.map((r) => r.fcp).sort((a, b) => a - b);
    const median = fcps[1];
    console.log(`first contentful paint (cold, loopback): median ${median?.toFixed(1)} ms, runs ${fcps.map((x) => x?.toFixed(1)).join(" / ")} ms`);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, "first-paint.json"), JSON.stringify({ median_fcp_ms: median, runs }, null, 2) + "\n");
    assert.ok(fcps.every((x) => x !== null), "no first-contentful-paint entry");
    // Target < 1 s; the bound leaves room for a loaded shared test machine.
    assert.ok(median < 3000, `first contentful paint ${median} ms`);
    await page.goto(base + "/");
    await page.getByRole("button", { name: "Log in" }).waitFor();
    await shot(page, "01-login");
  });

  await t.test("a wrong password is refused with a message", async () => {
    await page.getByLabel("User name").fill(USER);
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong user name or password" }).waitFor();
  });

  await t.test("log in", async () => {
    await logIn(page);
    await page.getByRole("status", { name: "Live updates" }).filter({ hasText: "Live" }).waitFor();
    await page.getByText("Current mode:").filter({ hasText: "auto" }).waitFor();
  });

  await t.test("the attack appears on the dashboard live", async () => {
    appendFileSync(logFile, fixtureLines);
    const recent = page.getByRole("region", { name: "Recent decisions" });
    await recent.getByRole("cell", { name: ATTACKER_A }).waitFor({ timeout: 15000 });
    await page.getByRole("region", { name: "Top attackers" }).getByRole("link", { name: ATTACKER_A }).waitFor();
    const blocks = page.getByRole("group", { name: "Active blocks" });
    await blocks.getByText("1", { exact: true }).waitFor({ timeout: 10000 });
    const findings = Number(await page.getByRole("group", { name: "Findings" }).locator(".stat-value").textContent());
    assert.ok(findings >= 1, `findings counter ${findings}`);
    const chart = page.getByRole("img", { name: /Timeline of the last 60 minutes/ });
    const label = await chart.getAttribute("aria-label");
    assert.match(label, /[1-9]\d* findings, [1-9]\d* decisions/);
    await page.getByRole("cell", { name: "auth", exact: true }).waitFor();
    await shot(page, "02-dashboard-attack");
  });

  await t.test("the attack becomes an incident, acknowledged by an analyst", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Incidents" }).click();
    await page.getByRole("heading", { name: "Incidents", level: 1 }).waitFor();
    const title = new RegExp(`^Open .* on ${ATTACKER_A.replaceAll(".", "\\.")}$`);
    const open = page.getByRole("button", { name: title });
    await open.waitFor({ timeout: 15000 });
    const inc = (await apiGet(page, `/incidents?target=${ATTACKER_A}`)).items[0];
    assert.equal(inc.status, "open");
    assert.ok(inc.findings >= 1 && inc.decisions.length >= 1, JSON.stringify(inc));
    await shot(page, "02b-incidents");
    await open.click();
    const detail = page.getByRole("region", { name: "Incident" });
    await detail.getByRole("heading", { name: /^Findings \([1-9]/ }).waitFor();
    await detail.getByRole("heading", { name: /^Decisions \([1-9]/ }).waitFor();
    await detail.getByRole("link", { name: `block ${ATTACKER_A}` }).waitFor();
    await detail.getByRole("button", { name: `Acknowledge ${inc.title}` }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Note").fill("looking into it");
    await dialog.getByRole("button", { name: "Acknowledge", exact: true }).click();
    await dialog.waitFor({ state: "detached" });
    const acked = await waitForApi(page, `/incidents/${inc.id}`, (r) => r.status === "acknowledged", "incident acknowledged");
    assert.equal(acked.status_by, `api:${USER}`);
    assert.equal(acked.status_note, "looking into it");
    // Gone from the open list, shown under acknowledged.
    await open.waitFor({ state: "detached" });
    await page.getByRole("combobox", { name: "Status" }).selectOption("acknowledged");
    await page.getByRole("button", { name: title }).waitFor();
    await detail.getByText(`by api:${USER}`).waitFor();
    const audit = await apiGet(page, "/audit?kind=incident.status");
    assert.ok(audit.items.some((a) => a.target === ATTACKER_A && a.actor === `api:${USER}`), JSON.stringify(audit));
    await shot(page, "02c-incident-acknowledged");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("heading", { name: "Dashboard", level: 1 }).waitFor();
  });

  await t.test("switch to manual mode in one click", async () => {
    await page.getByRole("button", { name: "Switch to manual mode" }).click();
    await page.getByText("Current mode:").filter({ hasText: "manual" }).waitFor();
    await page.getByText("MANUAL MODE", { exact: true }).waitFor();
    const m = await apiGet(page, "/mode");
    assert.equal(m.mode, "manual");
    assert.equal(m.actor, `api:${USER}`);
    await shot(page, "03-dashboard-manual");
  });

  await t.test("approve a pending block", async () => {
    appendFileSync(logFile, fixtureLines.replaceAll(ATTACKER_A, ATTACKER_B));
    await waitForApi(page, "/approvals", (r) => r.items.some((d) => d.target === ATTACKER_B), "pending approval for attacker B");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /Approvals/ }).click();
    const card = page.getByRole("article", { name: `Approval for ${ATTACKER_B}` });
    await card.waitFor();
    assert.match(await card.getByRole("timer").textContent(), /left/);
    await shot(page, "04-approvals");
    await card.getByRole("button", { name: `Approve block of ${ATTACKER_B}` }).click();
    await card.waitFor({ state: "detached" });
    await waitForApi(page, `/decisions?target=${ATTACKER_B}`, (r) => r.items.some((d) => d.state === "active"), "approved decision active");
    await page.getByText("No decision waits for approval.").waitFor();
  });

  await t.test("revoke a decision, and see why another was taken", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Decisions" }).click();
    await page.getByRole("heading", { name: "Decisions", level: 1 }).waitFor();
    await page.getByRole("button", { name: `Why ${ATTACKER_B}` }).click();
    const why = page.getByRole("region", { name: "Why" });
    await why.getByRole("heading", { name: "Finding" }).waitFor();
    await why.getByRole("heading", { name: "Rule" }).waitFor();
    await why.getByRole("heading", { name: /Evidence events \([1-9]/ }).waitFor();
    await why.getByText(`Failed password for invalid user pascal1 from ${ATTACKER_B}`).first().waitFor();
    await shot(page, "05-decisions-why");
    await why.getByRole("button", { name: "Mark as false positive" }).click();
    await why.getByRole("button", { name: "Remove the mark" }).waitFor();
    const decisionB = (await apiGet(page, `/decisions?target=${ATTACKER_B}`)).items[0];
    assert.equal((await apiGet(page, `/findings/${decisionB.finding_id}`)).false_positive, true);

    await page.getByRole("button", { name: `Revoke ${ATTACKER_A}` }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Reason").fill("false positive: our scanner");
    await dialog.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: `Revoke ${ATTACKER_A}` }).waitFor({ state: "detached" });
    await waitForApi(page, `/decisions?state=all&target=${ATTACKER_A}`, (r) => r.items.some((d) => d.state === "revoked"), "revoked decision");
    const audit = await apiGet(page, `/audit?kind=decision.revoked`);
    assert.ok(audit.items.some((a) => a.target === ATTACKER_A && a.actor === `api:${USER}`), JSON.stringify(audit));
  });

  await t.test("audit log shows the actions and an intact chain", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
    await page.getByText("chain intact").waitFor();
    await page.getByRole("cell", { name: "decision.revoked" }).first().waitFor();
    await shot(page, "06-audit");
  });

  await t.test("rules list shows hit counts and modes", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rules" }).click();
    const table = page.getByRole("table");
    await table.waitFor();
    const rows = await table.getByRole("row").count();
    assert.ok(rows > 2, `rules rows ${rows}`);
    await page.getByRole("combobox", { name: /^Mode of / }).first().waitFor();
    await shot(page, "07-rules");
  });

  await t.test("rules page lists the errors of the last load with their positions", async () => {
    writeFileSync(localRules, "rules:\n  - id: console-local-probe\n    kinds: [auth]\n    match:\n      event.outcome: [unclosed\n");
    await page.getByRole("button", { name: "Reload rules" }).click();
    await page.getByRole("heading", { name: /^Load errors/ }).waitFor();
    // Shown again from GET /rules/errors after leaving the page and coming back.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Rules" }).click();
    await page.getByRole("heading", { name: /^Load errors: the running rules stay/ }).waitFor();
    // The refused file's error with its position (the bundled rules' warnings are listed too).
    await page.locator(".diagnostics code.pos").filter({ hasText: /local-rules\.yaml:\d+:\d+/ }).first().waitFor();
    const errs = await apiGet(page, "/rules/errors");
    assert.equal(errs.rejected, true);
    const err = errs.diagnostics.find((d) => d.severity === "error");
    assert.ok(err && err.file.endsWith("local-rules.yaml") && err.line > 0 && err.column > 0, JSON.stringify(errs));
    await shot(page, "07b-rules-errors");
    writeFileSync(localRules, LOCAL_RULES);
    await page.getByRole("button", { name: "Reload rules" }).click();
    await waitForApi(page, "/rules/errors", (r) => r.rejected === false && r.errors === 0, "a clean reload");
  });

  await t.test("dry-run mode: switch and return from the dashboard", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
    await page.getByRole("button", { name: "Switch to dry-run mode" }).click();
    await page.getByText("Current mode:").filter({ hasText: "dry-run" }).waitFor();
    await page.getByText("DRY RUN", { exact: true }).waitFor();
    const m = await apiGet(page, "/mode");
    assert.equal(m.mode, "dry-run");
    assert.equal(m.actor, `api:${USER}`);
    await shot(page, "07c-dashboard-dry-run");
    await page.getByRole("button", { name: "Return to automatic mode" }).click();
    await page.getByText("Current mode:").filter({ hasText: "auto" }).waitFor();
    assert.equal((await apiGet(page, "/mode")).mode, "auto");
  });

  await t.test("users page lists the admin", async () => {
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Users" }).click();
    await page.getByRole("region", { name: "Users" }).getByRole("cell", { name: /admin/ }).first().waitFor();
    await shot(page, "08-users");
  });

  await t.test("the dashboard on a phone-sized screen", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const p = await phone.newPage();
    watchErrors(p, "phone");
    await logIn(p);
    await p.getByRole("group", { name: "Active blocks" }).locator(".stat-value").filter({ hasText: /^\d+$/ }).waitFor();
    await p.getByRole("region", { name: "Recent decisions" }).getByText(ATTACKER_B).first().waitFor();
    const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page wider than the screen by ${overflow}px`);
    assert.equal(await p.getByRole("navigation", { name: "Main" }).isVisible(), false, "menu collapsed");
    await shot(p, "09-phone-dashboard");
    await p.getByRole("button", { name: "Menu" }).click();
    await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Decisions" }).click();
    await p.getByRole("heading", { name: "Decisions", level: 1 }).waitFor();
    await p.getByRole("cell", { name: ATTACKER_B }).first().waitFor();
    await shot(p, "10-phone-decisions");
    await p.getByRole("button", { name: "Menu" }).click();
    await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Incidents" }).click();
    await p.getByRole("heading", { name: "Incidents", level: 1 }).waitFor();
    await p.getByRole("combobox", { name: "Status" }).selectOption("all");
    await p.getByRole("button", { name: new RegExp(`^Open .* on ${ATTACKER_B.replaceAll(".", "\\.")}$`) }).first().click();
    await p.getByRole("region", { name: "Incident" }).getByRole("heading", { name: /^Findings \([1-9]/ }).waitFor();
    const incOverflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(incOverflow <= 0, `incidents page wider than the screen by ${incOverflow}px`);
    await shot(p, "11-phone-incidents");
    await phone.close();
  });

  await t.test("no script errors or blocked resources", () => {
    assert.deepEqual(pageErrors, []);
  });

  await context.close();
});
