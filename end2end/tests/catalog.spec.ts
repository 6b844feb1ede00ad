import { expect, test } from '@playwright/test';
import { waitForHydration } from './helpers';

test.describe('catalog', () => {
  test('is rendered on the server: products are in the raw HTML', async ({ request }) => {
    const res = await request.get('/');
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('text/html');
    const html = await res.text();
    for (const name of ['Stoneware Mug', 'Enamel Teapot', 'Potted Succulent']) {
      expect(html).toContain(name);
    }
    expect(html).toContain('$24.00');
    expect(html).toContain('href="/products/stoneware-mug"');
  });

  test('shows every product without JavaScript', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.locator('.product-card')).toHaveCount(12);
    await expect(page.getByRole('heading', { name: 'Stoneware Mug' })).toBeVisible();
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
    await page.getByRole('link', { name: 'Linen Notebook' }).click();
    await expect(page).toHaveURL(/\/products\/linen-notebook$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Linen Notebook' })).toBeVisible();
    await context.close();
  });

  test('hydrates: navigating to a product happens client-side, without a page load', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto('/');
    await waitForHydration(page);
    // A marker on window survives client-side navigation but not a full page load.
    await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'still-here'));
    let loads = 0;
    page.on('load', () => loads++);
    await page.getByRole('link', { name: 'Brass Desk Lamp' }).click();
    await expect(page).toHaveURL(/\/products\/brass-desk-lamp$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Brass Desk Lamp' })).toBeVisible();
    await expect(page.locator('.product__price')).toHaveText('$129.00');
    expect(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)).toBe('still-here');
    expect(loads).toBe(0);
    await expect(page).toHaveTitle('Brass Desk Lamp · Oxide & Oak');
    // And back to the catalog, still without a reload.
    await page.getByRole('link', { name: 'Catalog' }).first().click();
    await expect(page.locator('.product-card')).toHaveCount(12);
    expect(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)).toBe('still-here');
    expect(errors).toEqual([]);
  });

  test('product page is server-rendered with price, stock and description', async ({ request }) => {
    const res = await request.get('/products/potted-succulent');
    expect(res.status()).toBe(200);
    const html = await res.text();
    // `<!>` is a hydration marker the renderer may put after dynamic text.
    expect(html).toMatch(/<h1>Potted Succulent(<!>)?<\/h1>/);
    expect(html).toContain('$14.00');
    expect(html).toContain('Sold out');
  });
});

test.describe('not found', () => {
  test('an unknown path answers 404 with the not-found page', async ({ request, page }) => {
    const res = await request.get('/no/such/page');
    expect(res.status()).toBe(404);
    expect(await res.text()).toContain("We couldn't find that page");
    await page.goto('/no/such/page');
    await expect(page.getByRole('heading', { name: "We couldn't find that page" })).toBeVisible();
  });

  test('an unknown product slug answers 404', async ({ request, page }) => {
    const res = await request.get('/products/unicorn-saddle');
    expect(res.status()).toBe(404);
    expect(await res.text()).toContain("We couldn't find that page");
    const response = await page.goto('/products/unicorn-saddle');
    expect(response?.status()).toBe(404);
    await waitForHydration(page);
    await page.getByRole('link', { name: 'Back to the catalog' }).click();
    await expect(page.locator('.product-card')).toHaveCount(12);
  });
});
