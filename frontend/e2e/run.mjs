// End-to-end test of the web UI: starts the real `tarn` binary (not in
// quickstart: the setup page creates the admin), drives Debian's Chromium
// with playwright-core through setup, login, repositories, uploads, commits,
// branches, compare and merge, browsing an old commit, deletions, garbage
// collection (rules, a dry run), action runs and hook output, an import from a local directory and the
// administration pages, at 1280×800 and at 390×844. Screenshots go to
// frontend/test-output/ (not committed). Exits non-zero on the first failure.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const here = resolve(import.meta.dirname, "..");
const bin = process.env.TARN_BIN ?? resolve(here, "../target/debug/tarn");
const out = resolve(here, "test-output");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const data = mkdtempSync(join(tmpdir(), "tarn-ui-"));

function start() {
  return new Promise((ok, fail) => {
    const child = spawn(bin, ["run", "--listen", "127.0.0.1:0", "--data-dir", data], {
      env: {
        ...process.env,
        RUST_LOG: "warn",
        TARN_DATABASE__TYPE: "sqlite",
        TARN_BLOCKSTORE__TYPE: "local",
        TARN_AUTH__ENCRYPT__SECRET_KEY: "ui-test-secret-key",
        TARN_BLOCKSTORE__LOCAL__IMPORT_ENABLED: "true",
        TARN_BLOCKSTORE__LOCAL__ALLOWED_EXTERNAL_PREFIXES: importDir,
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/Tarn listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) ok({ child, url: m[1] });
    });
    child.on("exit", (code) => fail(new Error(`tarn exited (${code}) before listening:\n${seen}`)));
    setTimeout(() => fail(new Error("tarn did not start in 30 s")), 30000);
  });
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`  ✓ ${what}`);
}

const importDir = join(data, "import-src");
mkdirSync(join(importDir, "daily"), { recursive: true });
writeFileSync(join(importDir, "daily", "2026-01-01.csv"), "day,n\n1,10\n");
writeFileSync(join(importDir, "daily", "2026-01-02.csv"), "day,n\n2,20\n");

const files = join(data, "upload");
mkdirSync(files);
writeFileSync(join(files, "data.csv"), 'city,population\nOslo,709037\n"Bergen, Vestland",291189\n');
writeFileSync(
  join(files, "README.md"),
  '# Demo\n\nSome **bold** text.\n\n<style>body { display: none }</style>\n\n<form method="post" action="/api/v1/repositories/demo/branches/main/objects?path=x"><button>Click</button></form>\n\n<img src="x" onerror="window.pwned = true">\n',
);
writeFileSync(join(files, "empty.txt"), "");
writeFileSync(join(files, "notes.txt"), "plain notes\n");
writeFileSync(join(files, "extra.txt"), "added on a branch\n");

const { child, url } = await start();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => (errors.push(e.message), console.error("page error:", e.message)));
  const external = [];
  page.on("request", (r) => !r.url().startsWith(url) && !r.url().startsWith("data:") && external.push(r.url()));
  const shot = (name, p = page) => p.screenshot({ path: join(out, `${name}.png`), fullPage: true });

  console.log("setup and login");
  await page.goto(url + "/");
  await page.waitForURL("**/setup");
  await page.getByLabel("Admin user name").fill("admin");
  await shot("01-setup");
  await page.getByRole("button", { name: "Set up" }).click();
  const key = await page.getByTestId("setup-key").innerText();
  const secret = await page.getByTestId("setup-secret").innerText();
  check(key.length === 20 && secret.length === 40, "setup shows a 20/40-character key pair once");
  await shot("02-setup-done");
  await page.getByRole("link", { name: "Go to login" }).click();
  await page.getByLabel("Access key ID").fill(key);
  await page.getByLabel("Secret access key").fill("wrong");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").filter({ hasText: "Wrong access key or secret" }).waitFor();
  check(true, "a wrong secret shows an error");
  // Keyboard only: focus the secret field and submit with Enter.
  await page.getByLabel("Secret access key").fill(secret);
  await page.getByLabel("Secret access key").press("Enter");
  await page.waitForURL("**/repositories");
  await page.getByText("No repositories yet").waitFor();
  check(true, "logged in: empty repository list");
  await shot("03-repositories-empty");

  console.log("create a repository");
  await page.getByRole("button", { name: "Create repository" }).first().click();
  await page.getByLabel("Repository ID").fill("demo");
  check((await page.getByLabel("Storage namespace").inputValue()) === "local://demo", "the namespace is prefilled from the server's example");
  await page.getByRole("dialog").getByRole("button", { name: "Create repository" }).click();
  await page.getByRole("link", { name: "demo", exact: true }).click();
  await page.getByText("No objects yet").waitFor();

  console.log("upload, preview, commit");
  await page.getByRole("button", { name: "Upload" }).click();
  await page.locator('input[type="file"]').setInputFiles([join(files, "data.csv"), join(files, "README.md"), join(files, "notes.txt"), join(files, "empty.txt")]);
  await page.getByLabel("Destination prefix").fill("");
  await page.getByRole("button", { name: /Upload 4 files to main/ }).click();
  await page.getByRole("button", { name: "Open data.csv" }).waitFor();
  check(true, "four files uploaded with progress");
  await page.getByRole("button", { name: "Open empty.txt" }).click();
  await page.getByRole("heading", { name: "Preview" }).waitFor();
  await page.getByText("Loading preview…").waitFor({ state: "detached" });
  check((await page.getByRole("complementary").getByRole("alert").count()) === 0, "an empty file previews without an error");
  await page.getByRole("button", { name: "Open data.csv" }).click();
  await page.getByRole("table", { name: "Table preview" }).getByRole("cell", { name: "Bergen, Vestland" }).waitFor();
  check(true, "CSV preview is a table (quoted comma kept)");
  await shot("04-objects-csv-preview");
  await page.getByRole("button", { name: "Open README.md" }).click();
  await page.locator(".markdown strong").filter({ hasText: "bold" }).waitFor();
  await page.waitForTimeout(200);
  check(!(await page.evaluate(() => window.pwned)), "Markdown preview renders and runs no script");
  check((await page.locator(".markdown style, .markdown form, .markdown button, .markdown [style]").count()) === 0, "Markdown keeps no styles or forms");
  check(await page.getByRole("heading", { name: "Preview" }).isVisible(), "the page is still visible (no injected style)");
  await page.getByRole("link", { name: "Uncommitted changes", exact: true }).click();
  await page.getByRole("list", { name: "Uncommitted changes" }).getByText("notes.txt").waitFor();
  await shot("05-uncommitted");
  await page.getByRole("button", { name: "Reset notes.txt" }).click();
  await page.getByRole("list", { name: "Uncommitted changes" }).getByText("notes.txt").waitFor({ state: "detached" });
  check(true, "per-path reset drops one change");
  await page.getByRole("button", { name: "Commit changes" }).click();
  await page.getByLabel("Message").fill("first data");
  await page.getByRole("button", { name: "Add metadata" }).click();
  await page.getByLabel("Metadata key").fill("source");
  await page.getByLabel("Metadata value").fill("e2e");
  await page.getByRole("dialog").getByRole("button", { name: "Commit changes" }).click();
  await page.getByRole("status").filter({ hasText: "first data" }).waitFor();
  check(true, "commit with message and metadata");

  console.log("branch, change, compare, merge");
  await page.getByRole("link", { name: "Branches" }).click();
  await page.getByRole("button", { name: "Create branch" }).click();
  await page.getByLabel("Branch name").fill("feature");
  await page.getByRole("dialog").getByRole("button", { name: "Create branch" }).click();
  await page.getByRole("link", { name: "feature", exact: true }).click();
  await page.getByRole("button", { name: "Upload" }).click();
  await page.locator('input[type="file"]').setInputFiles([join(files, "extra.txt")]);
  await page.getByRole("button", { name: /Upload 1 file to feature/ }).click();
  await page.getByRole("button", { name: "Open extra.txt" }).waitFor();
  await page.getByRole("link", { name: "Uncommitted changes", exact: true }).click();
  await page.getByRole("button", { name: "Commit changes" }).click();
  await page.getByLabel("Message").fill("extra on feature");
  await page.getByRole("dialog").getByRole("button", { name: "Commit changes" }).click();
  await page.getByRole("status").filter({ hasText: "extra on feature" }).waitFor();
  await page.goto(`${url}/repositories/demo/compare?ref=main&compare=feature`);
  await page.getByRole("list", { name: "Differences" }).getByText("extra.txt").waitFor();
  check(true, "compare shows the branch's change (three-dot, deep link)");
  await shot("06-compare");
  await page.getByRole("button", { name: "Merge feature into main" }).click();
  await page.getByRole("status").filter({ hasText: "Merged" }).waitFor();
  check(true, "merged feature into main");

  console.log("a conflict is shown clearly");
  for (const [branch, body] of [["feature", "feature side"], ["main", "main side"]]) {
    await page.evaluate(async ([b, text]) => {
      await fetch(`/api/v1/repositories/demo/branches/${b}/objects?path=notes.txt`, { method: "POST", body: text });
      await fetch(`/api/v1/repositories/demo/branches/${b}/commits`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ message: `notes on ${b}` }) });
    }, [branch, body]);
  }
  await page.goto(`${url}/repositories/demo/compare?ref=main&compare=feature`);
  await page.getByRole("button", { name: "Merge feature into main" }).click();
  await page.getByRole("alert").filter({ hasText: "Merge conflicts" }).getByText("notes.txt").waitFor();
  check(true, "merge conflicts list the conflicting path");
  await shot("07-merge-conflict");
  await page.getByLabel("Merge strategy").selectOption("source-wins");
  await page.getByRole("button", { name: "Merge feature into main" }).click();
  await page.getByRole("status").filter({ hasText: "Merged" }).waitFor();
  check(true, "source-wins resolves it");

  console.log("log and an old commit");
  await page.getByRole("link", { name: "Commits" }).click();
  await page.getByRole("link", { name: "first data" }).click();
  await page.getByText("source").first().waitFor();
  await page.getByRole("list", { name: "Commit changes" }).getByText("data.csv").waitFor();
  check(true, "commit details show metadata and changes against the parent");
  await shot("08-commit");
  await page.getByRole("link", { name: /^[0-9a-f]{12}$/ }).first().click();
  await page.getByText("The first commit has no parent.").waitFor();
  check((await page.getByRole("list", { name: "Commit changes" }).count()) === 0, "following a parent shows that commit, not the old diff");
  await page.goBack();
  await page.getByRole("list", { name: "Commit changes" }).getByText("data.csv").waitFor();
  await page.getByRole("link", { name: "Browse objects at this commit" }).click();
  await page.getByRole("button", { name: "Open data.csv" }).waitFor();
  check((await page.getByRole("button", { name: "Open extra.txt" }).count()) === 0, "the old commit does not have the later file");
  check((await page.getByRole("button", { name: "Upload" }).count()) === 0, "no uploads on a commit");
  await shot("09-old-commit");

  console.log("revert and paging");
  await page.goto(`${url}/repositories/demo/commits?ref=main`);
  await page.getByRole("link", { name: "extra on feature" }).click();
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Revert on main" }).click();
  await page.getByRole("status").filter({ hasText: "Reverted on main" }).waitFor();
  await page.goto(`${url}/repositories/demo/objects?ref=main`);
  await page.getByRole("button", { name: "Open data.csv" }).waitFor();
  check((await page.getByRole("button", { name: "Open extra.txt" }).count()) === 0, "reverting a commit removes its file");
  const long = "part-00000-" + "0123456789abcdef".repeat(6) + ".snappy.parquet";
  await page.evaluate(async (longName) => {
    const put = (p) => fetch(`/api/v1/repositories/demo/branches/main/objects?path=${encodeURIComponent(p)}`, { method: "POST", body: p });
    for (let i = 0; i < 120; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => put(`many/f${String(i + j).padStart(3, "0")}.txt`)));
    await put(`long/${longName}`);
  }, long);
  await page.goto(`${url}/repositories/demo/objects?ref=main&path=many/`);
  await page.getByRole("button", { name: "Open f000.txt" }).waitFor();
  check((await page.getByRole("button", { name: /^Open f\d+\.txt$/ }).count()) === 100, "a page holds 100 entries");
  await page.getByRole("button", { name: "Next →" }).click();
  await page.getByRole("button", { name: "Open f119.txt" }).waitFor();
  check((await page.getByRole("button", { name: "Open f000.txt" }).count()) === 0, "the second page continues after the first");
  await shot("10-paged-listing");
  await page.getByRole("button", { name: "Ref: main" }).click();
  await page.getByRole("group", { name: "Choose ref" }).getByRole("button", { name: "feature" }).click();
  await page.getByRole("button", { name: "Open data.csv" }).waitFor();
  check((await page.getByText("Page 2").count()) === 0, "changing the ref starts again at page 1");

  console.log("deletions");
  await page.goto(`${url}/repositories/demo/objects?ref=main`);
  await page.getByRole("button", { name: "Open README.md" }).click();
  await page.getByRole("complementary").getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByRole("button", { name: "Open README.md" }).waitFor({ state: "detached" });
  check(true, "deleted an object");
  await page.getByRole("link", { name: "Branches" }).click();
  page.once("dialog", (d) => d.accept());
  await page.getByRole("button", { name: "Delete branch feature" }).click();
  await page.getByRole("link", { name: "feature", exact: true }).waitFor({ state: "detached" });
  check(true, "deleted a branch");

  console.log("actions");
  const hookRuns = await page.evaluate(async () => {
    const action = [
      "name: ui check",
      "on:",
      "  pre-commit:",
      "hooks:",
      "  - id: message_check",
      "    type: lua",
      "    properties:",
      "      script: |",
      '        print("checking: " .. action.commit.message)',
      '        if action.commit.message:find("forbidden") then error("forbidden commit") end',
      "",
    ].join("\n");
    const base = "/api/v1/repositories/demo/branches/main";
    const upload = await fetch(`${base}/objects?path=_lakefs_actions/check.yaml`, { method: "POST", body: action });
    const commit = (message) => fetch(`${base}/commits`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ message }) });
    const ok = await commit("allowed by the hook");
    await fetch(`${base}/objects?path=gated.txt`, { method: "POST", body: "held back" });
    const refused = await commit("forbidden by the hook");
    await fetch(`${base}/objects?path=gated.txt`, { method: "DELETE" });
    await fetch(`${base}/objects?path=_lakefs_actions/check.yaml`, { method: "DELETE" });
    const cleanup = await commit("remove the action");
    return [upload.status, ok.status, refused.status, cleanup.status];
  });
  check(JSON.stringify(hookRuns) === "[201,201,412,201]", `a Lua pre-commit hook passes one commit and refuses another (${hookRuns})`);
  await page.getByRole("link", { name: "Actions" }).click();
  const actionRuns = page.getByRole("table", { name: "action runs" });
  await actionRuns.getByText("failed").waitFor();
  const runRows = await actionRuns.locator("tbody tr").count();
  check(runRows === 2 && (await actionRuns.getByText("completed").count()) === 1, `the Actions tab lists the passed run and the failed one (${runRows} rows)`);
  const failedRow = actionRuns.locator("tbody tr", { hasText: "failed" }).first();
  await failedRow.getByRole("button", { name: /^Run / }).click();
  await page.getByRole("button", { name: "ui check / message_check" }).click();
  const hookLog = page.getByLabel("Output of message_check");
  await hookLog.waitFor();
  const logText = await hookLog.innerText();
  check(logText.includes("checking: forbidden by the hook") && logText.includes("forbidden commit"), `a failed hook's output shows what it printed and its error`);
  await shot("10a-actions");

  console.log("garbage collection");
  await page.goto(`${url}/repositories/demo/objects?ref=main`);
  await page.getByRole("link", { name: "Garbage collection" }).click();
  await page.getByText("No rules: every commit is kept").waitFor();
  await page.getByLabel("Default retention (days)").fill("7");
  await page.getByRole("button", { name: "Add branch rule" }).click();
  await page.getByLabel("Branch 1", { exact: true }).fill("main");
  await page.getByLabel("Days for branch 1").fill("30");
  await page.getByRole("button", { name: "Save rules" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  const rules = await page.evaluate(async () => (await fetch("/api/v1/repositories/demo/settings/gc_rules")).json());
  check(rules.default_retention_days === 7 && rules.branches[0].branch_id === "main" && rules.branches[0].retention_days === 30, "retention rules saved through the editor");
  await page.getByRole("button", { name: "Start dry run" }).click();
  const runs = page.getByRole("table", { name: "gc runs" });
  await runs.getByText("succeeded").waitFor({ timeout: 30000 });
  await runs.getByRole("button", { name: "Dry run" }).click();
  await page.getByText("Commits kept").waitFor();
  const scanned = await runs.locator("tbody tr").first().locator("td").nth(2).innerText();
  check(/^\d[\d,]* \(/.test(scanned), `a dry run's report shows what it scanned (${scanned})`);
  await page.getByRole("button", { name: "Compact trees now" }).click();
  const compactions = page.getByRole("table", { name: "tree compactions" });
  await compactions.getByText("succeeded").waitFor({ timeout: 30000 });
  const outcomeText = await compactions.locator("tbody tr").first().locator("td").nth(2).innerText();
  const listed = await page.evaluate(async () => (await (await fetch("/api/v1/repositories/demo/trees/compactions")).json()).results);
  check(listed.length === 1 && /^1 branch looked at; 0 layers folded/.test(outcomeText), `a compaction started from the page runs and shows what it did (${outcomeText})`);
  await shot("10b-gc");

  console.log("zero-copy import");
  await page.goto(`${url}/repositories/demo/objects?ref=main`);
  await page.getByRole("button", { name: "Open data.csv" }).waitFor();
  const storageConfig = await page.evaluate(async () => (await (await fetch("/api/v1/config")).json()).storage_config);
  check(storageConfig.import_support === true, `the server offers imports (${JSON.stringify(storageConfig)})`);
  await page.getByRole("button", { name: "Import", exact: true }).click();
  await page.getByLabel("Source (a prefix ending in /, or one object)").fill(`local://${importDir}/daily/`);
  await page.getByLabel("Destination on main").fill("imported/");
  await page.getByLabel("Commit message").fill("import daily files");
  await page.getByRole("dialog").getByRole("button", { name: "Import" }).click();
  await page.getByText(/Imported 2 objects in commit/).waitFor({ timeout: 30000 });
  check(true, "an import from a local directory finishes with its count");
  await shot("10c-import");
  await page.getByRole("dialog").getByText("Close", { exact: true }).click();
  await page.getByRole("button", { name: "imported/" }).click();
  await page.getByRole("button", { name: "Open 2026-01-02.csv" }).waitFor();
  check(true, "the imported objects are listed on the branch");

  console.log("administration");
  await page.getByRole("link", { name: "Administration" }).click();
  await page.getByRole("button", { name: "Create user" }).click();
  await page.getByLabel("User ID").fill("alice");
  await page.getByRole("dialog").getByRole("button", { name: "Create" }).click();
  await page.getByRole("link", { name: "alice" }).click();
  await page.getByLabel("Group ID").fill("Viewers");
  await page.getByRole("button", { name: "Add" }).first().click();
  await page.getByRole("link", { name: "FSReadAll" }).waitFor();
  check(true, "a user joins Viewers and gets its effective policies");
  await shot("11-admin-user");
  await page.getByRole("link", { name: "Policies" }).click();
  await page.getByRole("link", { name: "FSReadWriteAll" }).waitFor();
  await shot("12-admin-policies");

  console.log("deep links, narrow screens, keyboard");
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await phone.addCookies(await context.cookies());
  const mobile = await phone.newPage();
  await mobile.goto(`${url}/repositories/demo/objects?ref=main`);
  await mobile.getByRole("button", { name: "Open data.csv" }).click();
  await mobile.getByRole("table", { name: "Table preview" }).waitFor();
  const overflow = await mobile.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `no horizontal scrolling at 390 px (overflow ${overflow})`);
  await shot("13-mobile-objects", mobile);
  await mobile.goto(`${url}/repositories/demo/objects?ref=main&path=long/`);
  await mobile.getByRole("button", { name: /^Open part-00000-/ }).waitFor();
  const overflowLong = await mobile.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
  check(overflowLong <= 1, `long names wrap at 390 px (overflow ${overflowLong})`);
  await mobile.goto(`${url}/repositories/demo/compare?ref=main&compare=main`);
  await mobile.getByText("Pick two different refs").waitFor();
  const overflowCompare = await mobile.evaluate(() => document.scrollingElement.scrollWidth - window.innerWidth);
  check(overflowCompare <= 1, `the compare page fits at 390 px (overflow ${overflowCompare})`);
  await shot("14-mobile-compare", mobile);
  await mobile.goto(`${url}/repositories`);
  await mobile.getByRole("link", { name: "demo", exact: true }).waitFor();
  await shot("15-mobile-repositories", mobile);
  await page.goto(`${url}/repositories`);
  await page.getByRole("button", { name: "Create repository" }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("dialog").waitFor();
  check(await page.getByLabel("Repository ID").evaluate((e) => e === document.activeElement), "a dialog opens from the keyboard with focus inside");
  await page.keyboard.press("Escape");
  await page.getByRole("dialog").waitFor({ state: "detached" });

  console.log("delete the repository, log out");
  await page.getByRole("button", { name: "Delete demo" }).click();
  const confirm = page.getByRole("dialog").getByRole("button", { name: "Delete repository" });
  check(await confirm.isDisabled(), "repository deletion waits for the typed name");
  await page.getByLabel("Repository name").fill("demo");
  await confirm.click();
  await page.getByText("No repositories yet").waitFor();
  await page.getByRole("link", { name: "Log out" }).click();
  await page.waitForURL("**/auth/login**");
  check(true, "logged out");
  check(errors.length === 0, `no page errors (${errors.join("; ")})`);
  check(external.length === 0, `no request left the server (${external.join(", ")})`);
} catch (e) {
  failed = true;
  console.error(e);
  for (const [i, p] of browser.contexts().flatMap((c) => c.pages()).entries()) {
    await p.screenshot({ path: join(out, `failure-${i}.png`), fullPage: true }).catch(() => {});
  }
} finally {
  await browser.close();
  child.kill("SIGTERM");
  rmSync(data, { recursive: true, force: true });
}
console.log(failed ? "UI end-to-end test FAILED" : `UI end-to-end test passed; screenshots in ${out}`);
process.exit(failed ? 1 : 0);
