import { expect, test } from '@playwright/test';
import { waitForHydration } from './helpers';

test('search as you type and sort, without a page load', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'same-page'));
  await page.getByPlaceholder('Search products').pressSequentially('kettle', { delay: 30 });
  await expect(page.locator('.product-card')).toHaveCount(1);
  await expect(page.getByRole('heading', { name: 'Copper Kettle' })).toBeVisible();
  await expect(page).toHaveURL(/\/\?q=kettle$/);
  await page.getByPlaceholder('Search products').fill('');
  await page.getByPlaceholder('Search products').pressSequentially('co', { delay: 30 });
  await expect(page.locator('.product-card').first()).toBeVisible();
  await page.getByLabel('Sort by').selectOption('price_desc');
  await expect(page).toHaveURL(/\/\?q=co&sort=price_desc$/);
  // The dearest product with a word that starts with "co": the lamp's cord.
  await expect(page.locator('.product-card__name').first()).toHaveText('Brass Desk Lamp');
  await expect(page.locator('.product-card')).toHaveCount(8);
  await expect(page.getByTestId('found')).toHaveText('8 products');
  expect(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)).toBe('same-page');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('search is a plain GET form', async ({ page }) => {
    await page.goto('/');
    await page.getByPlaceholder('Search products').fill('lamp');
    await page.getByLabel('Sort by').selectOption('price_asc');
    await page.getByRole('button', { name: 'Search' }).click();
    // A plain form sends its empty price boxes too.
    await expect(page).toHaveURL(/\/\?q=lamp&sort=price_asc&min=&max=$/);
    await expect(page.locator('.product-card')).toHaveCount(1);
    await expect(page.getByRole('heading', { name: 'Brass Desk Lamp' })).toBeVisible();
    await page.goto('/?q=no-such-thing');
    await expect(page.getByText('No products match.')).toBeVisible();
  });
});
