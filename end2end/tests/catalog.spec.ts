import { expect, test, waitForHydration } from './helpers';

test.describe('catalog', () => {
  test('is rendered on the server: products are in the raw HTML', async ({ request }) => {
    const res = await request.get('/');
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toContain('text/html');
    const html = await res.text();
    // One page of the catalog, however large it is, and a link to the next.
    expect(html.match(/class="product-card"/g)).toHaveLength(24);
    expect(html).toMatch(/href="\/\?after=\d+" rel="next"/);
    const found = await (await request.get('/?q=Stoneware+Mug')).text();
    expect(found).toContain('Stoneware Mug');
    expect(found).toContain('$24.00');
    expect(found).toContain('href="/products/stoneware-mug"');
  });

  test('shows the catalog without JavaScript', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.locator('.product-card')).toHaveCount(24);
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
    await page.getByPlaceholder('Search products').fill('Linen Notebook');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.locator('.product-card__name').first()).toHaveText('Linen Notebook');
    await page.getByRole('link', { name: 'Linen Notebook', exact: true }).click();
    await expect(page).toHaveURL(/^[^?]*\/products\/linen-notebook$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Linen Notebook' })).toBeVisible();
    await context.close();
  });

  test('images have their size before they load, and a card stays readable when one fails', async ({ page }) => {
    // Every product image fails: the boxes keep their size, the cards their text.
    await page.route('**/images/*.svg', (route) =>
      route.request().url().includes('logo') ? route.continue() : route.abort(),
    );
    await page.goto('/');
    const cards = page.locator('.product-card');
    await expect(cards).toHaveCount(24);
    const sizes = await page.locator('.product-card img').evaluateAll((imgs) =>
      imgs.map((img) => {
        const box = img.getBoundingClientRect();
        return [Math.round(box.width), Math.round(box.height), img.getAttribute('loading')];
      }),
    );
    for (const [width, height] of sizes) {
      expect(width).toBeGreaterThan(100);
      expect(height).toBe(width); // square, as the image would be
    }
    // The first row loads at once, the rest when they come near the screen.
    expect(sizes.slice(0, 4).map((s) => s[2])).toEqual(['eager', 'eager', 'eager', 'eager']);
    expect(sizes.slice(4).every((s) => s[2] === 'lazy')).toBe(true);
    await expect(cards.first().locator('.product-card__name')).not.toBeEmpty();
    await expect(cards.first()).toContainText('$');
  });

  test('hydrates: navigating to a product happens client-side, without a page load', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto('/?q=Brass+Desk+Lamp');
    await waitForHydration(page);
    // A marker on window survives client-side navigation but not a full page load.
    await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'still-here'));
    let loads = 0;
    page.on('load', () => loads++);
    await page.getByRole('link', { name: 'Brass Desk Lamp', exact: true }).click();
    await expect(page).toHaveURL(/^[^?]*\/products\/brass-desk-lamp$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Brass Desk Lamp' })).toBeVisible();
    await expect(page.locator('.product__price')).toHaveText('$129.00');
    expect(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)).toBe('still-here');
    expect(loads).toBe(0);
    await expect(page).toHaveTitle('Brass Desk Lamp · Oxide & Oak');
    // And back to the catalog, still without a reload.
    await page.getByRole('link', { name: 'Catalog' }).first().click();
    await expect(page.locator('.product-card')).toHaveCount(24);
    expect(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)).toBe('still-here');
    expect(errors).toEqual([]);
  });

  test('a product opened from the catalog shows at once, then takes the stock the server has now', async ({
    page,
    playwright,
    baseURL,
  }) => {
    await page.goto('/?q=Oak+Cutting+Board');
    await waitForHydration(page);
    const card = page.locator('.product-card', { hasText: 'Oak Cutting Board' });
    const before = parseInt((await card.locator('.stock').textContent()) ?? '', 10);
    expect(before).toBeGreaterThan(1);

    // The product page's own check with the server is held until someone else has bought one.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let checks = 0;
    await page.route('**/api/get_product', async (route) => {
      checks++;
      await held;
      await route.continue();
    });
    await card.getByRole('link').click();
    await expect(page.getByRole('heading', { level: 1, name: 'Oak Cutting Board' })).toBeVisible();
    await expect(page.locator('.product .stock')).toHaveText(`${before} in stock`);
    await expect.poll(() => checks).toBe(1);

    const other = await playwright.request.newContext({ baseURL, ignoreHTTPSErrors: true });
    const username = `board${Date.now() % 1_000_000}`;
    const password = 'board-buyer-password-2026';
    const registered = await other.post('/api/register', {
      form: { username, email: `${username}@example.com`, password, password_confirm: password },
      maxRedirects: 0,
    });
    expect(registered.status()).toBeLessThan(400);
    const board = await (await other.post('/api/get_product', { form: { slug: 'oak-cutting-board' } })).json();
    expect((await other.post('/api/add_to_cart', { form: { product_id: String(board.id), quantity: '1' } })).status()).toBe(200);
    const placed = await other.post('/api/place_order', {
      form: { name: 'Grace Hopper', address_line1: '1 Harbour Road', city: 'Arlington', postal_code: '22201', country: 'US' },
      maxRedirects: 0,
    });
    expect(placed.status()).toBeLessThan(400);
    await other.dispose();

    release();
    await expect(page.locator('.product .stock')).toHaveText(`${before - 1} in stock`);
    await expect(page.getByRole('heading', { level: 1, name: 'Oak Cutting Board' })).toBeVisible();
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
    await expect(page.locator('.product-card')).toHaveCount(24);
  });
});
