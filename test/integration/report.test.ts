// biome-ignore-all lint/performance/useDomNodeTextContent: Playwright's Locator.innerText (the text a reader sees), not the DOM property
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, type BuildResult } from '../../lib/report/build.js';

// Builds the report from real results of two lab runs kept in fixtures/runs (no lab needed), serves it on
// 127.0.0.1 and opens it in the system's headless Chromium (Debian's `chromium`; never downloaded).
// Screenshot: reports/screenshots/report.png (a CI artefact).

const ROOT = resolve(import.meta.dirname, '../..');
// The browsers scripts/setup.sh accepts (Debian's chromium; a runner's Chromium or Chrome).
const BROWSERS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const CHROMIUM = BROWSERS.find((b) => existsSync(b)) ?? BROWSERS[0]!;
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(dir, path);
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

describe('the HTML report (Allure 3) in headless Chromium', () => {
  it("has a Chromium to open it with (npm run setup installs Debian's)", () => {
    expect(existsSync(CHROMIUM), `none of ${BROWSERS.join(', ')}: apt-get install chromium`).toBe(true);
  });

  let work: string;
  let built: BuildResult;
  let server: Server;
  let ctx: BrowserContext;
  let base: string;
  const external: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mhc-report-test-'));
    // Two real lab runs (results and histories, so timelines exist), the later one with writes.
    cpSync(join(ROOT, 'fixtures/runs'), join(work, 'runs'), { recursive: true });
    expect(readdirSync(join(work, 'runs')).length, 'fixtures/runs holds two lab runs').toBeGreaterThan(1);
    built = await buildReport({ reportsDir: work, allureResults: join(work, 'none') });
    server = await serve(built.output);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    ctx = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
      viewport: { width: 1400, height: 1000 },
      timeout: 30_000,
    });
    // Offline: nothing but the local server may be reached (and nothing else is tried).
    await ctx.route('**/*', (r) => {
      const u = r.request().url();
      if (u.startsWith(base) || u.startsWith('data:') || u.startsWith('blob:')) return r.continue();
      external.push(u);
      return r.abort();
    });
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('was built and wrote the regression diff', () => {
    expect(built.tests).toBeGreaterThan(1);
    // A hang guard only: the build's speed is measured by `npm run bench:report`, not asserted.
    expect(built.ms).toBeLessThan(60_000);
    expect(readFileSync(built.regressionPath, 'utf8')).toMatch(/^# Regression diff/);
    expect(readFileSync(join(work, 'history.jsonl'), 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2);
  });

  it('does not show a hazard case as passed (only pass is green): broken, in the Hazard category', () => {
    const tests = readdirSync(join(built.output, 'data/test-results')).map(
      (f) =>
        JSON.parse(readFileSync(join(built.output, 'data/test-results', f), 'utf8')) as {
          name: string;
          status: string;
          categories?: { name: string }[];
        },
    );
    const hazardCases = readdirSync(join(work, 'runs', built.latest!))
      .filter((f) => f.endsWith('.result.json'))
      .map((f) => JSON.parse(readFileSync(join(work, 'runs', built.latest!, f), 'utf8')) as { caseId: string; acts: { verdict: string }[] })
      .filter((r) => r.acts.some((a) => a.verdict === 'hazard') && r.acts.every((a) => a.verdict !== 'fail'));
    expect(hazardCases.length, 'the latest fixture run has hazard cases').toBeGreaterThan(0);
    for (const c of hazardCases) {
      const t = tests.find((x) => x.name.startsWith(`case ${c.caseId}: `));
      expect(t?.status, `case ${c.caseId}`).toBe('broken');
      expect(
        t?.categories?.map((x) => x.name),
        `case ${c.caseId}`,
      ).toEqual(['Hazard (known dangerous state)']);
    }
    const stat = JSON.parse(readFileSync(join(built.output, 'widgets/statistic.json'), 'utf8')) as {
      total: number;
      passed?: number;
      broken?: number;
    };
    expect(stat.passed ?? 0, 'the overview cannot read 100 % passed').toBeLessThan(stat.total);
    expect(stat.broken).toBeGreaterThanOrEqual(hazardCases.length);
  });

  it('shows the scenarios, the regression diff, and a case timeline', async () => {
    const page = await ctx.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    await page.goto(base, { waitUntil: 'load', timeout: 30_000 });
    try {
      await page.waitForFunction(
        '/regression diff/i.test(document.body.innerText) && /case \\d/.test(document.body.innerText)',
        undefined,
        { timeout: 30_000 },
      );
    } catch (e) {
      mkdirSync(join(ROOT, 'reports/screenshots'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'reports/screenshots/report-failed.png') });
      throw new Error(
        `the report did not show the scenarios (screenshot reports/screenshots/report-failed.png); page text:\n${(await page.locator('body').innerText()).slice(0, 2000)}`,
        { cause: e },
      );
    }
    const text = await page.locator('body').innerText();
    const caseIds = new Set(
      readdirSync(join(work, 'runs', built.latest!))
        .filter((f) => f.endsWith('.result.json'))
        .map((f) => f.split('.rep')[0]!),
    );
    for (const c of caseIds) expect(text, `case ${c} of the latest run`).toContain(`case ${c}: `);
    mkdirSync(join(ROOT, 'reports/screenshots'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'reports/screenshots/report.png'), fullPage: false });

    // Hazards are a category of their own, and a hazard case (case 5 of the latest fixture run) opens
    // with its HAZARD: message, not as passed.
    await page
      .getByText(/^Categories\s*\d*$/)
      .first()
      .click();
    await page.getByText('Hazard (known dangerous state)').first().waitFor({ timeout: 15_000 });
    await page
      .getByText(/^Results\s*\d*$/)
      .first()
      .click();
    await page
      .getByText(/^case 5: /)
      .first()
      .click();
    await page
      .getByText(/HAZARD: /)
      .first()
      .waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ROOT, 'reports/screenshots/report-hazard.png'), fullPage: false });
    await page.goBack();

    // Open a case: its timeline attachment is there and renders as SVG.
    await page
      .getByText(/^case \d[^\n]*:/)
      .first()
      .click();
    await page
      .getByText(/^timeline/)
      .first()
      .waitFor({ timeout: 15_000 });
    await page
      .getByText(/^timeline/)
      .first()
      .click();
    const svg = page.locator('svg.mhc-timeline, img[src*="svg"], iframe, object');
    await svg.first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ROOT, 'reports/screenshots/report-case.png'), fullPage: false });
    expect(failed.filter((u) => u.startsWith(base))).toEqual([]);
    expect(external, 'the report must not reach outside the machine').toEqual([]);
  }, 90_000);
});
