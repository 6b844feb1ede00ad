import { Page } from '@playwright/test';
import { expect, test, register, sessionCookie, waitForHydration } from './helpers';

const ALICE = { username: 'alice', password: 'wonderland-2026' };

async function signIn(page: Page, username: string, password: string) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

const signedInAs = (page: Page) => page.getByTestId('signed-in-user');

test.describe('signing in with JavaScript', () => {
  test('log in once, then cart and billing know you; reload keeps it; logout ends it', async ({ page, context }) => {
    await page.goto('/login');
    await waitForHydration(page);
    await signIn(page, ALICE.username, ALICE.password);
    await expect(page).toHaveURL(/^[^?]*\/$/);
    await expect(signedInAs(page)).toHaveText('alice');

    // Client-side navigation: the server function calls carry the cookie.
    await page.getByRole('link', { name: 'Cart' }).click();
    await expect(page).toHaveURL(/^[^?]*\/cart$/);
    await expect(page.locator('.greeting__name')).toHaveText('alice');
    await page.getByRole('link', { name: 'Go to billing' }).click();
    await expect(page).toHaveURL(/^[^?]*\/billing$/);
    await expect(page.getByRole('heading', { name: 'Billing' })).toBeVisible();
    await expect(page.locator('.greeting__name')).toHaveText('alice');

    // Full page loads: SSR reads the session; no second login.
    await page.reload();
    await expect(page.locator('.greeting__name')).toHaveText('alice');
    await page.goto('/cart');
    await expect(page.locator('.greeting__name')).toHaveText('alice');

    // The session cookie is HttpOnly: scripts cannot read it.
    const cookies = await context.cookies();
    const sid = sessionCookie(cookies);
    expect(sid, 'session cookie present').toBeTruthy();
    expect(sid!.httpOnly).toBe(true);
    expect(sid!.sameSite).toBe('Lax');
    expect(sid!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await page.evaluate(() => document.cookie)).not.toContain(sid!.value);

    // Logout returns to anonymous, everywhere.
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/^[^?]*\/$/);
    await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
    await expect(signedInAs(page)).toHaveCount(0);
    expect(sessionCookie(await context.cookies())).toBeUndefined();
    await page.goto('/billing');
    await expect(page).toHaveURL(/\/login\?next=\/billing$/);
  });

  test('billing sends an anonymous visitor to login and back to billing afterwards', async ({ page }) => {
    await page.goto('/cart');
    await waitForHydration(page);
    // Client-side navigation to a sign-in-only page is redirected by the router.
    await page.getByRole('link', { name: 'Go to billing' }).click();
    await expect(page).toHaveURL(/\/login\?next=\/billing$/);
    await waitForHydration(page);
    await signIn(page, ALICE.username, ALICE.password);
    await expect(page).toHaveURL(/^[^?]*\/billing$/);
    await expect(page.locator('.greeting__name')).toHaveText('alice');
  });

  test('a wrong password shows an inline error, keeps the username and empties the password', async ({ page }) => {
    await page.goto('/login');
    await waitForHydration(page);
    await signIn(page, 'alice', 'not-the-password-at-all');
    await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
    await expect(page.getByLabel('Username')).toHaveValue('alice');
    await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
    await expect(page).toHaveURL(/^[^?]*\/login$/);
    // An unknown user gets the very same message.
    await signIn(page, 'nobody-at-all', 'not-the-password-at-all');
    await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
  });

  test('register a new account and land signed in', async ({ page }) => {
    const name = `shopper${Date.now() % 100000}`;
    await register(page, name);
    await expect(page).toHaveURL(/^[^?]*\/$/);
  });
});

test.describe('signing in without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('the same flow works with plain HTML forms', async ({ page, context }) => {
    await page.goto('/billing');
    await expect(page).toHaveURL(/\/login\?next=\/billing$/);
    await signIn(page, 'alice', 'not-the-password-at-all');
    await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
    await expect(page.getByLabel('Username')).toHaveValue('alice');
    await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');
    await signIn(page, ALICE.username, ALICE.password);
    await expect(page).toHaveURL(/^[^?]*\/billing$/);
    await expect(page.locator('.greeting__name')).toHaveText('alice');
    await page.goto('/cart');
    await expect(page.locator('.greeting__name')).toHaveText('alice');
    expect(sessionCookie(await context.cookies())?.httpOnly).toBe(true);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/^[^?]*\/$/);
    await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
    await page.goto('/cart');
    await expect(page.locator('.greeting__name')).toHaveCount(0);
  });
});
