import { expect, test, waitForHydration } from './helpers';

test('the Content-Security-Policy lets the app hydrate and blocks nothing of ours', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) {
      violations.push(msg.text());
    }
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Refused to load: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  for (const path of ['/', '/products/stoneware-mug', '/cart', '/login']) {
    const res = await page.goto(path);
    expect(res?.headers()['content-security-policy']).toContain("'nonce-");
    await waitForHydration(page);
  }
  // Interactive after hydration: a server function call (connect-src) and a client-side
  // navigation both work under the policy.
  await page.goto('/');
  await waitForHydration(page);
  await page.getByPlaceholder('Search products').pressSequentially('whistling', { delay: 30 });
  await expect(page).toHaveURL(/q=whistling/);
  await expect(page.locator('.product-card')).toHaveCount(1);
  expect(violations).toEqual([]);

  // And an injected inline script without the nonce really is refused.
  const ran = await page.evaluate(() => {
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true';
    document.body.appendChild(s);
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran).toBe(false);
});
