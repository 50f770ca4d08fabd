// Drives Debian's chromium (never a downloaded browser) through the admin pages of a running wsgw serve:
// /client sends trades, / (the dashboard) must show them. Called by BrowserEndToEndTests with one JSON argument:
//   { admin, chromium, count, batch, firstId, symbol, price, quantity, expectTrades, screenshotDir[, trustSpki] }
// trustSpki: the base64 SHA-256 of a self-signed server certificate's public key, which chromium then trusts (for
// https:// admin pages and wss:// gateways of wsgw serve --cert); no other certificate error is ignored.
// and prints one JSON line with what the pages showed; the assertions live in the C# test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const plan = JSON.parse(process.argv[2]);
const timeout = 30_000;
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsgw-chromium-'));
const result = { client: {}, dashboard: {}, screenshots: [], console: [] };

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: plan.chromium,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ...(plan.trustSpki ? [`--ignore-certificate-errors-spki-list=${plan.trustSpki}`] : [])],
  viewport: { width: 1280, height: 900 },
});

try {
  const page = context.pages()[0] ?? await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('console', m => { if (m.type() === 'error' || m.type() === 'warning') { result.console.push(`${m.type()}: ${m.text()}`); } });
  page.on('pageerror', e => result.console.push(`pageerror: ${e.message}`));

  // The client page: the URL field is prefilled from /api/stats with the gateway's ws:// (or wss://) address.
  await page.goto(new URL('/client', plan.admin).toString());
  await page.waitForFunction(() => /^wss?:\/\//.test(document.getElementById('url').value));
  result.client.prefilledUrl = await page.inputValue('#url');
  await page.fill('#count', String(plan.count));
  await page.fill('#batch', String(plan.batch));
  await page.fill('#first-id', String(plan.firstId));
  await page.fill('#symbol', plan.symbol);
  await page.fill('#price', String(plan.price));
  await page.fill('#quantity', String(plan.quantity));
  await page.click('#send');
  await page.waitForFunction(() => ['closed', 'failed'].includes(document.getElementById('state').textContent));
  const read = id => page.$eval(`#${id}`, e => ({ text: e.textContent, value: e.dataset.value }));
  result.client.state = (await read('state')).text;
  result.client.sent = Number((await read('sent')).value);
  result.client.frames = Number((await read('frames')).value);
  result.client.bytes = Number((await read('bytes')).value);
  result.client.closeCode = Number((await read('close-code')).value);
  result.client.firstTradeHex = (await read('hex')).text;
  result.client.error = (await read('error')).text;
  const clientShot = path.join(plan.screenshotDir, 'client.png');
  await page.screenshot({ path: clientShot, fullPage: true });
  result.screenshots.push(clientShot);

  // The dashboard: wait for the trade total, then for the chart to have a few samples after the burst.
  await page.goto(new URL('/', plan.admin).toString());
  try {
    await page.waitForFunction(n => document.getElementById('trades-total').dataset.value === String(n), plan.expectTrades, { timeout: 10_000 });
  } catch {
    // Reported below: the C# test says what the dashboard showed instead.
  }
  await page.waitForTimeout(3_000);
  result.dashboard.tradesTotal = Number(await page.$eval('#trades-total', e => e.dataset.value));
  result.dashboard.tradesText = await page.textContent('#trades-total');
  result.dashboard.messagesTotal = Number(await page.$eval('#messages-total', e => e.dataset.value));
  result.dashboard.connections = Number(await page.$eval('#connections', e => e.dataset.value));
  result.dashboard.gatewayUrl = await page.textContent('#gateway-url');
  result.dashboard.health = await page.textContent('#health');
  result.dashboard.dispatchReads = await page.$eval('#latency-since-start td.num', e => e.textContent);
  result.dashboard.errors = await page.$$eval('#errors-table tbody tr', rows => rows.map(r => ({ kind: r.dataset.kind, count: r.querySelector('td.num').textContent })));
  // The rate chart is drawn: some pixels of the canvas are not transparent.
  result.dashboard.chartPixels = await page.$eval('#rate-chart', c => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) { if (data[i] !== 0) { painted++; } }
    return painted;
  });
  const dashboardShot = path.join(plan.screenshotDir, 'dashboard.png');
  await page.screenshot({ path: dashboardShot, fullPage: true });
  result.screenshots.push(dashboardShot);
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

process.stdout.write(JSON.stringify(result) + '\n');
