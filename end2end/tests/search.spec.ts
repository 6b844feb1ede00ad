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
  await page.getByPlaceholder('Search products').pressSequentially('o', { delay: 30 });
  await expect(page.locator('.product-card').first()).toBeVisible();
  await page.getByLabel('Sort by').selectOption('price_desc');
  await expect(page).toHaveURL(/\/\?q=o&sort=price_desc$/);
  // The dearest product with an "o" in its name (the lamp has none).
  await expect(page.locator('.product-card__name').first()).toHaveText('Copper Kettle');
  await expect(page.locator('.product-card')).toHaveCount(9);
  expect(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker)).toBe('same-page');
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('search is a plain GET form', async ({ page }) => {
    await page.goto('/');
    await page.getByPlaceholder('Search products').fill('lamp');
    await page.getByLabel('Sort by').selectOption('price_asc');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page).toHaveURL(/\/\?q=lamp&sort=price_asc$/);
    await expect(page.locator('.product-card')).toHaveCount(1);
    await expect(page.getByRole('heading', { name: 'Brass Desk Lamp' })).toBeVisible();
    await page.goto('/?q=no-such-thing');
    await expect(page.getByText('No products match your search.')).toBeVisible();
  });
});
