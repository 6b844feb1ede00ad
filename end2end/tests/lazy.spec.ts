import { Page } from '@playwright/test';
import { expect, test, register, waitForHydration } from './helpers';

// The lazy routes (cart, billing, orders, an order, account, register) are wasm chunks of
// their own (`cargo leptos --split`), fetched on first use. Every one of them must show
// its page after a client-side navigation and work there; a chunk that cannot be loaded
// must lead to a full page load of that page, never to a dead one.

/** A marker on window survives client-side navigation but not a page load. */
const mark = (page: Page) => page.evaluate(() => ((window as unknown as { __nav?: string }).__nav = 'client'));
const marked = (page: Page) => page.evaluate(() => (window as unknown as { __nav?: string }).__nav);
const header = (page: Page) => page.locator('header.site-header');

test('every lazy page loads on a client-side navigation and works there', async ({ page }) => {
  const name = `lazy${Date.now() % 1_000_000}`;
  await register(page, name);
  await page.goto('/products/enamel-teapot');
  await waitForHydration(page);
  await mark(page);

  // Cart: a button that only works with the wasm changes the quantity in place.
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.getByTestId('cart-count')).toHaveText('1');
  await header(page).getByRole('link', { name: 'Cart' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your cart');
  await page.getByRole('button', { name: 'One more Enamel Teapot' }).click();
  await expect(page.getByTestId('line-enamel-teapot').getByTestId('qty')).toHaveText('2');

  // Billing.
  await page.getByRole('link', { name: 'Go to billing' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Billing');
  await expect(page.getByTestId('summary-enamel-teapot')).toContainText('× 2');

  // Orders, and the account page, whose password form answers inline.
  await header(page).getByRole('link', { name: 'Orders' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your orders');
  await header(page).getByRole('link', { name: 'Account' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your account');
  await page.getByLabel('Current password').fill('not-my-password-at-all');
  await page.getByLabel('New password', { exact: true }).fill('a-newer-long-password');
  await page.getByLabel('Repeat the new password').fill('a-newer-long-password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('Your current password is not right.');

  // Register, reached after signing out.
  await header(page).getByRole('button', { name: 'Sign out' }).click();
  await expect(header(page).getByRole('link', { name: 'Register' })).toBeVisible();
  await header(page).getByRole('link', { name: 'Register' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Create an account');

  // All of it without a single page load.
  expect(await marked(page)).toBe('client');
});

test('an order page loads on a client-side navigation', async ({ page }) => {
  const name = `lazyo${Date.now() % 1_000_000}`;
  await register(page, name);
  await page.goto('/products/linen-notebook');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.getByTestId('cart-count')).toHaveText('1');
  await page.goto('/billing');
  await waitForHydration(page);
  await page.getByLabel('Full name').fill('Ada Lovelace');
  await page.getByLabel('Address', { exact: true }).fill('12 St James Square');
  await page.getByLabel('City').fill('London');
  await page.getByLabel('Postal code').fill('SW1Y 4LE');
  await page.getByLabel('Country').selectOption('GB');
  await page.getByRole('button', { name: 'Place order' }).click();
  await expect(page.getByTestId('order-placed')).toBeVisible();

  await page.goto('/');
  await waitForHydration(page);
  await mark(page);
  await header(page).getByRole('link', { name: 'Orders' }).click();
  await page.getByRole('link', { name: /Order #\d+/ }).first().click();
  await expect(page.getByTestId('order-title')).toHaveText(/Order #\d+/);
  expect(await marked(page)).toBe('client');
});

test('a chunk that cannot be loaded leads to a full page load of that page', async ({ page }) => {
  // The cart's chunk is unreachable (a dropped connection, or a release that replaced it).
  await page.route(/\/pkg\/split___cart_route_view/, (route) => route.abort());
  await page.goto('/');
  await waitForHydration(page);
  await mark(page);
  await header(page).getByRole('link', { name: 'Cart' }).click();

  // The server renders the page; a page load happened (the marker is gone), and the
  // visitor sees the cart rather than a page that no longer reacts.
  await expect(page).toHaveURL(/^[^?]*\/cart$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Your cart');
  await expect.poll(() => marked(page)).toBeUndefined();
  await expect(page.getByText('Your cart is empty.')).toBeVisible();
});
