import { expect, test, waitForHydration } from './helpers';

test('search as you type and sort, without a page load', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'same-page'));
  // Words of the demo catalog's descriptions that no product of a benchmark catalog has.
  await page.getByPlaceholder('Search products').pressSequentially('whistling', { delay: 30 });
  await expect(page.locator('.product-card')).toHaveCount(1);
  await expect(page.getByRole('heading', { name: 'Copper Kettle' })).toBeVisible();
  await expect(page).toHaveURL(/\/\?q=whistling$/);
  await page.getByPlaceholder('Search products').fill('');
  await page.getByPlaceholder('Search products').pressSequentially('litre', { delay: 30 });
  await expect(page.locator('.product-card').first()).toBeVisible();
  await page.getByLabel('Sort by').selectOption('price_desc');
  await expect(page).toHaveURL(/\/\?q=litre&sort=price_desc$/);
  // The dearest of the kettle, the teapot and the carafe (each holds a litre or more).
  await expect(page.locator('.product-card__name')).toHaveText(['Copper Kettle', 'Enamel Teapot', 'Glass Carafe']);
  await expect(page.getByTestId('found')).toHaveText('3 products');
  expect(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)).toBe('same-page');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('search is a plain GET form', async ({ page }) => {
    await page.goto('/');
    await page.getByPlaceholder('Search products').fill('reading');
    await page.getByLabel('Sort by').selectOption('price_asc');
    await page.getByRole('button', { name: 'Search' }).click();
    // A plain form sends its empty price boxes too.
    await expect(page).toHaveURL(/\/\?q=reading&sort=price_asc&min=&max=$/);
    await expect(page.locator('.product-card')).toHaveCount(1);
    await expect(page.getByRole('heading', { name: 'Brass Desk Lamp' })).toBeVisible();
    await page.goto('/?q=no-such-thing');
    await expect(page.getByText('No products match.')).toBeVisible();
  });
});
