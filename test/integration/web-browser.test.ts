import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createElasticClient, type ElasticClient } from '@killtrace/elastic';
import { renderTimeline } from '@killtrace/render';
import type { RestartRecord } from '@killtrace/schemas';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TOKEN } from './api-harness.js';
import { ARTIFACTS, launchChromium } from './browser.js';
import { pipelineRecords } from './example-records.js';
import { integrationConfig } from './helpers.js';

// The web page in real headless Chromium over records the real pipeline wrote to the real Elasticsearch: the
// example bundles' signals through Kafka and the correlator (test/integration/example-records.ts).

const DOCS_PNG = fileURLToPath(new URL('../../docs/timeline-host-agent.png', import.meta.url));
let elastic: ElasticClient;
let api: { app: FastifyInstance; url: string };
let browser: { context: BrowserContext; close: () => Promise<void> };
let records: RestartRecord[];
let page: Page;
let pipeline: { alias: string; records: RestartRecord[]; close: () => Promise<void> } | undefined;

async function signIn(p: Page): Promise<void> {
  await p.goto(`${api.url}/ui/`);
  await p.fill('#token', TOKEN);
  await p.click('#token-form button');
}

beforeAll(async () => {
  elastic = createElasticClient(integrationConfig().elasticsearch);
  pipeline = await pipelineRecords('web');
  records = pipeline.records;
  api = await startTestApi(pipeline.alias, { elastic });
  browser = await launchChromium();
  page = await browser.context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await api?.app.close();
  await pipeline?.close();
  await elastic?.close();
});

describe('web page in headless Chromium', () => {
  it('asks for the token when there is none, then lists every restart newest first', async () => {
    await page.goto(`${api.url}/ui/`);
    await expect.poll(() => page.textContent('#status')).toContain('401');
    await signIn(page);
    await page.waitForSelector('#records tbody tr');
    expect(records).toHaveLength(14);
    expect(await page.locator('#records tbody tr').count()).toBe(records.length);
    expect(await page.textContent('#count')).toBe(`${records.length} of ${records.length} restart(s)`);
    const first = await page.locator('#records tbody tr').first().textContent();
    expect(first).toContain('2026-10-02 06:45:26.169');
    await page.screenshot({ path: `${ARTIFACTS}list.png`, fullPage: true });
  });

  it('filters by namespace and cause, with the state in a shareable URL', async () => {
    await page.fill('#filters input[name=namespace]', 'shop');
    await page.selectOption('#filters select[name=cause]', 'app_exit');
    await page.click('#filters button[type=submit]');
    const shopAppExits = records.filter((r) => r.kubernetes.namespace === 'shop' && r.killtrace.cause === 'app_exit').length;
    expect(shopAppExits).toBeGreaterThan(1);
    await expect.poll(() => page.locator('#records tbody tr').count()).toBe(shopAppExits);
    expect(page.url()).toContain('namespace=shop');
    expect(page.url()).toContain('cause=app_exit');
    expect(await page.locator('#records tbody').textContent()).toContain('orders-6d5c4b3a2-n4f7d');
    await page.screenshot({ path: `${ARTIFACTS}list-filtered.png`, fullPage: true });

    // The same link in a new tab (whose session has no token yet) shows the same state once signed in.
    const shared = await browser.context.newPage();
    await shared.goto(page.url());
    await expect.poll(() => shared.textContent('#status')).toContain('401');
    await shared.fill('#token', TOKEN);
    await shared.click('#token-form button');
    await shared.waitForSelector('#records tbody tr');
    expect(await shared.locator('#records tbody tr').count()).toBe(shopAppExits);
    expect(await shared.inputValue('#filters input[name=namespace]')).toBe('shop');
    expect(await shared.inputValue('#filters select[name=cause]')).toBe('app_exit');
    await shared.close();
  });

  it('opens a restart timeline from the keyboard and draws its SVG', async () => {
    await page.goto(`${api.url}/ui/?namespace=onecloud&probe_induced=true`);
    await page.waitForSelector('#records tbody tr');
    expect(await page.locator('#records tbody tr').count()).toBe(7);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    const focusedId = await page.locator(':focus').getAttribute('data-id');
    expect(focusedId).toBe('fd886e36-4a19-4d16-a666-e71cf7582046:host:5');
    await page.keyboard.press('Enter');
    await page.waitForURL(/view=timeline/);
    const frame = page.frameLocator('#timeline-frame');
    await frame.locator('svg.kt-row-svg').first().waitFor();
    expect(await frame.locator('h1').textContent()).toBe('Restart timeline: onecloud/default-host-x7k2p · host · restart 5');
    expect(await frame.locator('svg.kt-row-svg').count()).toBe(1);
    expect(await frame.locator('.kt-probe-failure').count()).toBe(3);
    expect(await frame.locator('.kt-kill').count()).toBe(1);
    expect(await frame.locator('.kt-budget text').textContent()).toBe('liveness budget 15 s (3 × 5 s)');
    expect(await frame.locator('.kt-step-killed').getAttribute('data-step')).toBe('gpu-vfio-bind');
    expect(await frame.locator('.kt-step-done').getAttribute('data-step')).toBe('host-info');
    // Hover titles carry UTC and, from the page's script, the viewer's local time (Europe/Berlin here).
    const killTitle = await frame.locator('.kt-kill > title').textContent();
    expect(killTitle).toContain('2026-10-02T06:39:41.169Z');
    expect(killTitle).toMatch(/\(local .*\b0?8:39:41/);
    await page.screenshot({ path: `${ARTIFACTS}timeline-restart-5.png`, fullPage: true });

    await page.keyboard.press('Escape');
    await page.waitForURL((url) => !url.search.includes('view=timeline'));
    await page.waitForSelector('#records tbody tr');
    expect(await page.locator('#records tbody tr').count()).toBe(7);
  });

  it('pages through the records with "Load more", and "/" jumps to the filters', async () => {
    await page.goto(`${api.url}/ui/?limit=4`);
    await expect.poll(() => page.locator('#records tbody tr').count()).toBe(4);
    expect(await page.textContent('#count')).toBe(`4 of ${records.length} restart(s)`);
    // Each click adds one page of four, until every record is listed.
    for (let shown = 8; shown < records.length + 4; shown += 4) {
      await page.click('#more');
      await expect.poll(() => page.locator('#records tbody tr').count()).toBe(Math.min(shown, records.length));
    }
    expect(await page.isHidden('#more')).toBe(true);
    const ids = await page.locator('#records tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));
    expect(new Set(ids).size).toBe(records.length);
    await page.keyboard.press('/');
    expect(await page.locator(':focus').getAttribute('name')).toBe('namespace');
  });

  it('shows a workload view: kills over time, init durations against the probe budget, the recommendation', async () => {
    await page.goto(`${api.url}/ui/?view=workload&namespace=onecloud&workload=default-host`);
    await page.waitForSelector('section.container[data-container=host]');
    const text = await page.textContent('#workload-body');
    expect(text).toContain('failureThreshold: 60');
    expect(text).toContain('7 of the 7 probe kill(s) during init');
    expect(await page.locator('figure.chart svg').count()).toBe(2);
    expect(await page.locator('figure.chart rect.bar-kill').count()).toBeGreaterThan(0);
    expect(await page.locator('figure.chart line.budget').count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}workload.png`, fullPage: true });

    await page.click('a:has-text("timeline of every restart")');
    await page.waitForURL(/view=timeline.*workload=default-host/);
    const frame = page.frameLocator('#timeline-frame');
    await frame.locator('svg.kt-row-svg').first().waitFor();
    expect(await frame.locator('svg.kt-row-svg').count()).toBe(7);
    expect(await frame.locator('.kt-backoff').count()).toBe(6);
    await page.screenshot({ path: `${ARTIFACTS}timeline-workload.png`, fullPage: true });
  });

  it('renders the HTML export of the crash loop to the PNG the README shows', async () => {
    const host = records.filter((r) => r.kubernetes.namespace === 'onecloud');
    const html = renderTimeline('html', { kind: 'workload', namespace: 'onecloud', workload: 'default-host' }, host);
    // The export from Elasticsearch is the same document.
    const response = await fetch(`${api.url}/api/v1/timeline?namespace=onecloud&workload=default-host&format=html`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await response.text()).toBe(html);
    const shot = await browser.context.newPage();
    await shot.setViewportSize({ width: 1400, height: 900 });
    await shot.setContent(html);
    expect(await shot.locator('svg.kt-row-svg').count()).toBe(7);
    // Self-contained: nothing is fetched from anywhere.
    expect(await shot.evaluate<number>("performance.getEntriesByType('resource').length")).toBe(0);
    const png = await shot.screenshot({ fullPage: true });
    writeFileSync(`${ARTIFACTS}timeline-export.png`, png);
    if (process.env.KILLTRACE_UPDATE_DOCS === '1') writeFileSync(DOCS_PNG, png);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(1400);
    // Printing on A4 keeps each incarnation's row whole.
    // (Expressions evaluated in the page are strings: this file is type-checked without the DOM library.)
    const breakInside = await shot.evaluate<string>("getComputedStyle(document.querySelector('.kt-row')).breakInside");
    expect(breakInside).toBe('avoid');
    await shot.emulateMedia({ colorScheme: 'dark' });
    const darkBackground = await shot.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    expect(darkBackground).toBe('rgb(13, 17, 23)');
    await shot.screenshot({ path: `${ARTIFACTS}timeline-export-dark.png`, fullPage: true });
    await shot.close();
  });
});
