// The report card as a reader sees it: report.html of a real run (lib/report/testdata/) opened from file:// in
// headless Chromium (Debian package `chromium`, .ci/install-deps.sh) with JavaScript off and every request but
// the page itself refused, driven by playwright-core. Leaves the page and a screenshot in artifacts/report-card/.
// Without Chromium: fails under CI=true (saying how to install it), else skips with that reason.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { skipTest } from '../../lib/framework/skip.ts';
import { reportTitle } from '../../lib/report/html.ts';
import { checkKnown, readKnownResults, readRunResults, withKnownResults } from '../../lib/report/known.ts';
import type { ReportModel } from '../../lib/report/model.ts';
import { realRunModel } from '../../lib/report/testdata/real-run.ts';
import { writeReport } from '../../lib/report/write.ts';

const CHROMIUM = process.env.SCTP_E2E_CHROMIUM ?? '/usr/bin/chromium';
// Chromium's own background connections are refused by a closed network; these flags keep it from trying.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Headless Chromium on one file: JavaScript off, every request but the page itself aborted (and recorded). */
async function openOffline(html: string, requests: string[]): Promise<{ profile: string; ctx: BrowserContext; page: Page }> {
  const profile = mkdtempSync(join(tmpdir(), 'sctp-e2e-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    javaScriptEnabled: false,
    viewport: { width: 1280, height: 900 },
    timeout: 15_000,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.request().url() === pathToFileURL(html).href ? route.continue() : route.abort();
  });
  return { profile, ctx, page };
}
const OUT = resolve('artifacts/report-card');
const HOSTILE = 'expected <script>alert("x")</script> & an SCTP DNAT rule';

describe('report card in a browser (integration: headless Chromium, file://, no JavaScript)', function () {
  this.timeout(20_000);
  let m: ReportModel;
  let ctx: BrowserContext | undefined;
  let page: Page;
  let profile: string | undefined;
  const requests: string[] = [];
  const dialogs: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const how = `${CHROMIUM} not found: install it with \`apt-get install -y chromium\` (or \`bash .ci/install-deps.sh\`), or point SCTP_E2E_CHROMIUM at a Chromium binary`;
      if (process.env.CI === 'true') throw new Error(how);
      skipTest(this, how);
    }
    m = realRunModel((i) => ({
      ...i,
      results: [
        ...i.results,
        {
          title: 'hostile',
          fullTitle: 'report card renders hostile text [Feature:SCTP]',
          suite: 'report card',
          outcome: 'failed',
          durationMs: 7,
          message: HOSTILE,
        },
      ],
    }));
    const { html } = writeReport(OUT, m);
    ({ profile, ctx, page } = await openOffline(html, requests));
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 10_000 });
  });

  after(async () => {
    if (page && !page.isClosed()) await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true }).catch(() => {});
    await ctx?.close().catch(() => {});
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('shows the title, a red FAILED banner at the top and the verdict counts', async () => {
    expect(await page.title()).to.equal(reportTitle(m));
    const banner = page.locator('#banner');
    expect(await banner.locator('h1').innerText()).to.equal('SCTP conformance: FAILED');
    expect(await banner.evaluate((el) => getComputedStyle(el).backgroundColor)).to.equal('rgb(207, 34, 46)');
    expect((await banner.boundingBox())!.y).to.equal(0);
    expect(await banner.locator('p').first().innerText()).to.equal('2 of 20 results failed (see Failures below).');
    expect(await page.locator('#counts').innerText()).to.match(/^16 passed\s*2 failed\s*2 skipped\s*0 pending\s*20 results$/);
  });

  it('shows the failure messages as text: the real one in full, the hostile one literally, nothing executed', async () => {
    const failures = page.locator('section.failure');
    expect(await failures.count()).to.equal(2);
    const real = await failures.nth(0).innerText();
    expect(real).to.contain('[Feature:SCTP] basic phase: sctp.ko module check at end of phase');
    expect(real).to.contain(
      'sctp.ko was loaded on node sctp-e2e-vm between after "a headless SCTP Service resolves to its pods\' IPs" (21:56:51.710 UTC: not loaded)',
    );
    expect(await failures.nth(0).locator('pre').isVisible()).to.equal(true);
    expect(await failures.nth(1).locator('pre').innerText()).to.equal(HOSTILE);
    expect(await page.locator('script').count()).to.equal(0);
    expect(dialogs).to.deep.equal([]);
  });

  it('shows the capability table: one row per capability with status, required and detail', async () => {
    const rows = page.locator('h2:has-text("Capabilities") + p + table tbody tr');
    const cells = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText)));
    expect(cells).to.deep.equal(m.capabilities.rows.map((r) => [r.capability, r.status, r.required ? 'required' : '', r.detail]));
    expect(cells.map((c) => c[0])).to.include.members(['node-access', 'kernel-sctp', 'nftables', 'loadbalancer']);
  });

  it('needs nothing but the file: no other request, readable with JavaScript off', () => {
    expect(requests).to.have.length(1);
    expect(requests[0]).to.match(/^file:\/\/.*\/report\.html$/);
  });
});

describe("report card in a browser: a run held to its plugin's known results (the captured Cilium v1.15.19 run)", function () {
  this.timeout(20_000);
  const dir = resolve('artifacts/report-card-known');
  let ctx: BrowserContext | undefined;
  let page: Page;
  let profile: string | undefined;
  const requests: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      const how = `${CHROMIUM} not found: install it with \`apt-get install -y chromium\` (or \`bash .ci/install-deps.sh\`), or point SCTP_E2E_CHROMIUM at a Chromium binary`;
      if (process.env.CI === 'true') throw new Error(how);
      skipTest(this, how);
    }
    const data = resolve('lib/report/testdata/cilium-2node');
    const known = readKnownResults(resolve('cluster/netpol/known-results/cilium-v1.15.19.yaml'));
    const model = JSON.parse(readFileSync(join(data, 'report.json'), 'utf8')) as ReportModel;
    const { html } = writeReport(dir, withKnownResults(model, checkKnown(readRunResults(join(data, 'junit.xml')), known), known));
    ({ profile, ctx, page } = await openOffline(html, requests));
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 10_000 });
  });

  after(async () => {
    if (page && !page.isClosed()) await page.screenshot({ path: join(dir, 'report.png'), fullPage: true }).catch(() => {});
    await ctx?.close().catch(() => {});
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("the banner carries the plugin's verdict line; no unexpected failure; six known failures apart, each row marked", async () => {
    expect(await page.locator('#known-verdict').innerText()).to.equal(
      'Cilium v1.15.19: 30 passed, 6 known failures (Services with port ≠ targetPort), 0 unexpected, 4 skipped — every failure is a known failure of Cilium v1.15.19, each failed as described',
    );
    expect(await page.locator('#failures').innerText()).to.equal('Unexpected failures (0)');
    expect(await page.locator('section.failure.known').count()).to.equal(6);
    expect(await page.locator('tr.known').count()).to.equal(6);
    expect(await page.locator('tr.known td').first().innerText()).to.equal(
      'known failure of Cilium v1.15.19\nServices with port ≠ targetPort · https://docs.cilium.io/en/stable/configuration/sctp/',
    );
    expect(
      await page
        .locator('tr.known td')
        .first()
        .evaluate((el) => getComputedStyle(el).backgroundColor),
    ).to.equal('rgb(255, 248, 197)');
    expect(await page.locator('section.known-cause a').first().getAttribute('href')).to.equal('https://docs.cilium.io/en/stable/configuration/sctp/');
    expect(requests).to.have.length(1); // links are not fetched: the page still needs nothing but itself
  });
});
