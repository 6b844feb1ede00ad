// First visit on a phone, measured in Debian's Chromium through the CDP (run by
// scripts/bench-browser). For each page and network profile, with an empty cache, the
// median of RUNS visits of:
//   - time to content (first contentful paint) and time to interactive (the app marks
//     <body data-hydrated="true"> once the wasm has run);
//   - bytes transferred before interactive, per file.
// Then the time client-side navigations take (catalog -> product -> cart -> billing).
// Prints JSON on stdout.
import { chromium } from '@playwright/test';

const base = process.argv[2];
const RUNS = Number(process.env.BENCH_BROWSER_RUNS ?? 5);
const PROFILES = {
  'no throttling': null,
  'slow mobile (150 ms RTT, 1.6 Mbit/s down)': {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1000 * 1000) / 8,
    uploadThroughput: (750 * 1000) / 8,
  },
};
const PAGES = [
  { path: '/', signedIn: false },
  { path: '/products/stoneware-mug', signedIn: false },
  { path: '/cart', signedIn: true },
  { path: '/billing', signedIn: true },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// Records when <body> gets data-hydrated (page clock, ms).
const MARK_HYDRATED = () => {
  new MutationObserver((_, observer) => {
    if (document.body?.dataset.hydrated === 'true') {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
};

async function signedInContext(user) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  await context.addInitScript(MARK_HYDRATED);
  if (user) {
    const res = await context.request.post(`${base}/api/login`, {
      form: { username: user[0], password: user[1] },
    });
    if (res.status() !== 200) throw new Error(`sign-in failed: ${res.status()}`);
    // Something in the cart, so /cart and /billing have lines to show.
    await context.request.post(`${base}/api/add_to_cart`, { form: { product_id: '1', quantity: '1' } });
  }
  return context;
}

// A fresh context (empty cache) and tab on this network profile.
async function throttledTab(profile, user) {
  const context = await signedInContext(user);
  const tab = await context.newPage();
  const cdp = await context.newCDPSession(tab);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (profile) await cdp.send('Network.emulateNetworkConditions', profile);
  return { context, tab, cdp };
}

async function visit(page, profile, user) {
  const { context, tab, cdp } = await throttledTab(profile, user);
  const urls = new Map();
  const finished = [];
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) =>
    finished.push({ url: urls.get(e.requestId), bytes: e.encodedDataLength, at: Date.now() }));
  await tab.goto(base + page.path, { waitUntil: 'commit' });
  await tab.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
  const wallInteractive = Date.now();
  const timing = await tab.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
    tti: window.__hydratedAt ?? null,
    origin: performance.timeOrigin,
  }));
  // Requests whose last byte had arrived when the page became interactive.
  const byFile = {};
  let total = 0;
  for (const f of finished) {
    if (!f.url || f.at > wallInteractive) continue;
    const name = new URL(f.url).pathname.replace(/\.[A-Za-z0-9_-]{22}\./, '.');
    byFile[name] = (byFile[name] ?? 0) + f.bytes;
    total += f.bytes;
  }
  await context.close();
  return { fcp: timing.fcp, tti: timing.tti, total, byFile };
}

async function navigation(profile, user) {
  const { context, tab } = await throttledTab(profile, user);
  await tab.goto(`${base}/`);
  await tab.waitForSelector('body[data-hydrated="true"]', { timeout: 60_000 });
  const steps = [];
  const step = async (label, click, urlPart, ready) => {
    const t0 = Date.now();
    await click();
    await tab.waitForURL((u) => u.pathname.startsWith(urlPart), { timeout: 60_000 });
    await ready();
    steps.push({ step: label, ms: Date.now() - t0 });
  };
  await step('catalog → product', () => tab.locator('a[href="/products/stoneware-mug"]').first().click(),
    '/products/', () => tab.getByRole('heading', { name: 'Stoneware Mug' }).waitFor());
  await step('product → cart', () => tab.locator('header a[href="/cart"]').click(),
    '/cart', () => tab.getByRole('link', { name: 'Go to billing' }).first().waitFor());
  await step('cart → billing', () => tab.getByRole('link', { name: 'Go to billing' }).first().click(),
    '/billing', () => tab.getByRole('button', { name: /place order/i }).waitFor());
  await context.close();
  return steps;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

const result = { runs: RUNS, pages: [], navigation: [] };
const user = ['alice', 'wonderland-2026'];
for (const [profileName, profile] of Object.entries(PROFILES)) {
  for (const page of PAGES) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await visit(page, profile, page.signedIn ? user : null));
    const medianRun = runs.slice().sort((a, b) => a.tti - b.tti)[Math.floor(runs.length / 2)];
    result.pages.push({
      profile: profileName,
      path: page.path,
      signedIn: page.signedIn,
      fcp: median(runs.map((r) => r.fcp)),
      tti: median(runs.map((r) => r.tti)),
      bytes: median(runs.map((r) => r.total)),
      byFile: medianRun.byFile,
    });
    console.error(`${profileName} ${page.path}: tti ${median(runs.map((r) => r.tti)).toFixed(0)} ms`);
  }
  const navs = [];
  for (let i = 0; i < RUNS; i++) navs.push(await navigation(profile, user));
  for (const label of navs[0].map((s) => s.step)) {
    result.navigation.push({
      profile: profileName,
      step: label,
      ms: median(navs.map((n) => n.find((s) => s.step === label).ms)),
    });
  }
}
await browser.close();
console.log(JSON.stringify(result));
