import { Page } from '@playwright/test';
import { expect, test, register, waitForHydration } from './helpers';

const badge = (page: Page) => page.getByTestId('cart-count');

test.describe('cart with JavaScript', () => {
  test('add from the product page, change and remove on the cart page; the badge follows', async ({ page }) => {
    await page.goto('/products/enamel-teapot');
    await waitForHydration(page);
    await expect(badge(page)).toHaveText('0');
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(badge(page)).toHaveText('2');
    await expect(page.getByRole('status')).toHaveText('Added to your cart.');

    await page.getByRole('link', { name: 'Cart' }).click();
    await expect(page).toHaveURL(/^[^?]*\/cart$/);
    const line = page.getByTestId('line-enamel-teapot');
    await expect(line.getByTestId('qty')).toHaveText('2');
    await expect(page.getByTestId('subtotal')).toHaveText('$98.00');
    await page.getByRole('button', { name: 'One more Enamel Teapot' }).click();
    await expect(line.getByTestId('qty')).toHaveText('3');
    await expect(badge(page)).toHaveText('3');
    await page.getByRole('button', { name: 'One less Enamel Teapot' }).click();
    await expect(line.getByTestId('qty')).toHaveText('2');
    await page.getByRole('button', { name: 'Remove Enamel Teapot' }).click();
    await expect(page.getByText('Your cart is empty.')).toBeVisible();
    await expect(badge(page)).toHaveText('0');
  });

  test('a refused add rolls the badge back and says why', async ({ page }) => {
    await page.goto('/products/copper-kettle'); // 6 in stock
    await waitForHydration(page);
    await page.getByLabel('Quantity').fill('6');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(badge(page)).toHaveText('6');
    await page.getByLabel('Quantity').fill('1');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(page.getByRole('status')).toContainText('Only 6 in stock');
    await expect(badge(page)).toHaveText('6');
  });

  test('the guest cart survives sign-in', async ({ page }) => {
    const name = `merge${Date.now() % 1000000}`;
    await register(page, name);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
    await page.goto('/products/canvas-tote');
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(badge(page)).toHaveText('1');
    // The badge counts up at once; leaving the page before the server has answered would
    // cancel the request (as it would for a person), so wait for the answer.
    await expect(page.getByRole('status')).toHaveText('Added to your cart.');
    await page.goto('/login?next=/cart');
    await waitForHydration(page);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password', { exact: true }).fill('a-long-enough-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page).toHaveURL(/^[^?]*\/cart$/);
    await expect(page.locator('.greeting__name')).toHaveText(name);
    await expect(page.getByTestId('line-canvas-tote').getByTestId('qty')).toHaveText('1');
    await expect(badge(page)).toHaveText('1');
  });
});

test.describe('cart without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('plain forms add, change and remove', async ({ page }) => {
    await page.goto('/products/glass-carafe');
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(page).toHaveURL(/^[^?]*\/products\/glass-carafe$/);
    await expect(badge(page)).toHaveText('2');
    await page.goto('/cart');
    await expect(page.getByTestId('line-glass-carafe').getByTestId('qty')).toHaveText('2');
    await page.getByRole('button', { name: 'One more Glass Carafe' }).click();
    await expect(page).toHaveURL(/^[^?]*\/cart$/);
    await expect(page.getByTestId('line-glass-carafe').getByTestId('qty')).toHaveText('3');
    await page.getByRole('button', { name: 'Remove Glass Carafe' }).click();
    await expect(page.getByText('Your cart is empty.')).toBeVisible();
    await expect(badge(page)).toHaveText('0');
  });
});
