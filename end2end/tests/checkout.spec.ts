import { APIRequestContext, Page } from '@playwright/test';
import { expect, test, waitForHydration } from './helpers';

// The seed story: an anonymous visitor fills a cart, goes to billing, is sent to sign
// in, comes back to billing with the merged cart, places the order, sees the
// confirmation, the badge shows 0 and the order is listed. Once with JavaScript, once
// without. Each run uses its own account and products no other test buys.

const PASSWORD = 'checkout-password-2026';
const badge = (page: Page) => page.getByTestId('cart-count');

async function newAccount(request: APIRequestContext, prefix: string): Promise<string> {
  const username = `${prefix}${Date.now() % 1_000_000}`;
  const res = await request.post('/api/register', {
    form: { username, email: `${username}@example.com`, password: PASSWORD, password_confirm: PASSWORD },
    maxRedirects: 0,
  });
  expect(res.status()).toBeLessThan(400);
  return username;
}

async function signIn(page: Page, username: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function fillAddress(page: Page, postalCode: string): Promise<void> {
  await page.getByLabel('Full name').fill('Ada Lovelace');
  await page.getByLabel('Address', { exact: true }).fill('12 St James’s Square');
  await page.getByLabel('City').fill('London');
  await page.getByLabel('Postal code').fill(postalCode);
  await page.getByLabel('Country').selectOption('GB');
}

/** Checks the confirmation and the order list; returns the order's number. */
async function confirmationAndList(page: Page, first: string, second: string): Promise<string> {
  await expect(page).toHaveURL(/\/orders\/\d+\?placed=1$/);
  await expect(page.getByTestId('order-placed')).toContainText('Thank you!');
  await expect(page.getByText(first)).toBeVisible();
  await expect(page.getByText(second)).toBeVisible();
  await expect(page.getByText('United Kingdom')).toBeVisible();
  await expect(badge(page)).toHaveText('0');
  const title = (await page.getByTestId('order-title').textContent()) ?? '';
  await page.getByRole('link', { name: 'Orders', exact: true }).click();
  await expect(page).toHaveURL(/^[^?]*\/orders$/);
  await expect(page.getByTestId('order-row').first()).toContainText(title);
  await expect(badge(page)).toHaveText('0');
  return title;
}

test.describe('checkout with JavaScript', () => {
  test('guest cart → billing → sign in → merged cart → order → confirmation → orders', async ({ page, request }) => {
    const username = await newAccount(request, 'buyer');
    await page.goto('/products/linen-notebook');
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(badge(page)).toHaveText('1');
    // The badge counts up at once; leaving the page before the server has answered would
    // cancel the request (as it would for a person), so wait for the answer.
    await expect(page.getByRole('status')).toHaveText('Added to your cart.');
    await page.goto('/products/wool-throw');
    await waitForHydration(page);
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(badge(page)).toHaveText('3');

    await page.getByRole('link', { name: 'Cart' }).click();
    await page.getByRole('link', { name: 'Go to billing' }).click();
    await expect(page).toHaveURL(/\/login\?next=\/billing$/);
    await signIn(page, username);
    await expect(page).toHaveURL(/^[^?]*\/billing$/);
    await expect(page.locator('.greeting__name')).toHaveText(username);
    await expect(page.getByTestId('summary-linen-notebook')).toContainText('× 1');
    await expect(page.getByTestId('summary-wool-throw')).toContainText('× 2');
    await expect(badge(page)).toHaveText('3');
    // The server-rendered billing page hydrates too.
    await page.reload();
    await waitForHydration(page);

    // A refused field is marked inline; what was typed stays, without a page load.
    await fillAddress(page, 'SW1Y 4LE!');
    await page.getByRole('button', { name: 'Place order' }).click();
    await expect(page.getByTestId('billing-error')).toHaveText('Please correct the marked fields.');
    await expect(page).toHaveURL(/^[^?]*\/billing$/);
    await expect(page.getByLabel('Postal code')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#postal_code-error')).toHaveText("Postal codes use letters, digits, spaces and '-' only.");
    await expect(page.getByLabel('Full name')).toHaveValue('Ada Lovelace');

    await page.getByLabel('Postal code').fill('SW1Y 4LE');
    const started = Date.now();
    await page.getByRole('button', { name: 'Place order' }).click();
    await expect(page.getByTestId('order-placed')).toBeVisible();
    console.log(`order flow (JS): Place order → confirmation shown in ${Date.now() - started} ms`);
    await confirmationAndList(page, 'Linen Notebook', 'Wool Throw');
  });
});

test.describe('checkout without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the same story with plain HTML forms', async ({ page, request }) => {
    const username = await newAccount(request, 'plainbuyer');
    await page.goto('/products/beeswax-candle');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(badge(page)).toHaveText('1');
    await page.goto('/products/pour-over-dripper');
    await page.getByLabel('Quantity').fill('2');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(badge(page)).toHaveText('3');

    await page.getByRole('link', { name: 'Cart' }).click();
    await page.getByRole('link', { name: 'Go to billing' }).click();
    await expect(page).toHaveURL(/\/login\?next=\/billing$/);
    await signIn(page, username);
    await expect(page).toHaveURL(/^[^?]*\/billing$/);
    await expect(page.getByTestId('summary-beeswax-candle')).toContainText('× 1');
    await expect(page.getByTestId('summary-pour-over-dripper')).toContainText('× 2');
    await expect(badge(page)).toHaveText('3');

    // Refused: the server keeps the values with the session and shows the errors.
    await fillAddress(page, 'SW1Y 4LE');
    await page.getByLabel('City').fill('');
    await page.getByRole('button', { name: 'Place order' }).click();
    await expect(page).toHaveURL(/\/billing\?error=invalid$/);
    await expect(page.getByTestId('billing-error')).toHaveText('Please correct the marked fields.');
    await expect(page.locator('#city-error')).toHaveText('Please enter a city.');
    await expect(page.getByLabel('Full name')).toHaveValue('Ada Lovelace');
    await expect(page.getByLabel('Country')).toHaveValue('GB');

    await page.getByLabel('City').fill('London');
    const started = Date.now();
    await page.getByRole('button', { name: 'Place order' }).click();
    await expect(page.getByTestId('order-placed')).toBeVisible();
    console.log(`order flow (no JS): Place order → confirmation shown in ${Date.now() - started} ms`);
    await confirmationAndList(page, 'Beeswax Candle', 'Pour-over Dripper');
  });
});
