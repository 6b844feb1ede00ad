// How many tabs of one browser stay live, over the front at BASE (argv[2]): one signed-in
// browser opens TABS tabs of the catalog one after another (each holds its event stream),
// then the cart changes elsewhere; a tab is live if its badge follows within 5 s. Also
// how long each tab took to load, since a browser's six HTTP/1.1 connections per site
// are shared by pages and streams. Run by scripts/bench-live-tabs. Prints JSON on stdout.
import { chromium } from '@playwright/test';

const base = process.argv[2];
const TABS = Number(process.env.LIVE_TABS ?? 10);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ ignoreHTTPSErrors: true });
const login = await context.request.post(`${base}/api/login`, {
  form: { username: 'bob', password: 'builder-bob-2026' },
});
if (login.status() !== 200) throw new Error(`sign-in failed: ${login.status()}`);

const tabs = [];
const loads = [];
let protocol = null;
for (let i = 0; i < TABS; i++) {
  const page = await context.newPage();
  const started = Date.now();
  try {
    await page.goto(`${base}/`, { timeout: 10_000 });
    await page.locator('body[data-hydrated="true"]').waitFor({ timeout: 10_000 });
    loads.push(Date.now() - started);
    protocol ??= await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
  } catch {
    loads.push(null); // did not load within 10 s
  }
  tabs.push(page);
  await page.waitForTimeout(300); // its stream opens after hydration
}

// The cart changes elsewhere (the same account, another client).
const other = await browser.newContext({ ignoreHTTPSErrors: true });
await other.request.post(`${base}/api/login`, { form: { username: 'bob', password: 'builder-bob-2026' } });
const added = await other.request.post(`${base}/api/add_to_cart`, { form: { product_id: '1', quantity: '1' } });
const count = String((await added.json()).count);
const live = await Promise.all(
  tabs.map((page) =>
    page
      .locator('.cart-badge')
      .filter({ hasText: count })
      .first()
      .waitFor({ timeout: 5_000 })
      .then(() => true, () => false),
  ),
);
console.log(
  JSON.stringify({
    base,
    protocol,
    tabs: TABS,
    loaded: loads.filter((t) => t !== null).length,
    load_ms: loads,
    live: live.filter(Boolean).length,
  }),
);
await browser.close();
