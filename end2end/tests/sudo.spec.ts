import { Browser, Page } from '@playwright/test';
import { expect, test, register, waitForHydration } from './helpers';

// Sudo mode in a real browser. The test servers run with SUDO_SECS=15 (scripts/test and
// playwright.config.ts), so a proof goes stale within a test.
const SUDO_SECS = Number(process.env.SUDO_SECS ?? 15);
const PASSWORD = 'a-long-enough-password';

/** A second signed-in device of `name`. */
async function secondDevice(browser: Browser, name: string, javaScript = true): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: javaScript });
  const phone = await context.newPage();
  await phone.goto('/login');
  // Typed before hydration, the fields could be set again as the page hydrates.
  if (javaScript) await waitForHydration(phone);
  await phone.getByLabel('Username').fill(name);
  await phone.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await phone.getByRole('button', { name: 'Sign in', exact: true }).click();
  // The header's name, not a link called "Account": the login page's "Create an account"
  // matched that at once, and the test went on before the phone had signed in.
  await expect(phone.getByTestId('signed-in-user')).toHaveText(name);
  return phone;
}

for (const javaScript of [true, false]) {
  test(`a stale proof asks for the password before signing out the other devices (JavaScript ${javaScript ? 'on' : 'off'})`, async ({
    browser,
  }) => {
    test.setTimeout(60_000);
    const context = await browser.newContext({ javaScriptEnabled: javaScript });
    const page = await context.newPage();
    const name = `sudo${javaScript ? 'js' : 'nojs'}${Date.now() % 1_000_000}`;
    if (javaScript) {
      await register(page, name);
    } else {
      await page.goto('/register');
      await page.getByLabel('Username').fill(name);
      await page.getByLabel('Email').fill(`${name}@example.com`);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('Repeat the password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await expect(page.getByTestId('signed-in-user')).toHaveText(name);
    }
    const phone = await secondDevice(browser, name);

    await page.goto('/account');
    if (javaScript) await waitForHydration(page);
    await expect(page.getByTestId('session-row')).toHaveCount(2);
    // Let the sign-in's proof go stale.
    await page.waitForTimeout((SUDO_SECS + 1) * 1000);
    await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await expect(page).toHaveURL(/\/confirm\?next=(\/|%2F)account$/);
    await expect(page.getByRole('heading', { name: 'Confirm it is you' })).toBeVisible();
    if (javaScript) await waitForHydration(page);

    // A wrong password: said inline, nothing changes.
    await page.getByLabel('Password').fill('not-my-password-at-all');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page.getByRole('alert')).toHaveText('Your current password is not right.');
    await expect(page.getByLabel('Password')).toHaveValue('');

    // The right one: back on the account page, where the action now works.
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect(page).toHaveURL(/^[^?]*\/account$/);
    if (javaScript) await waitForHydration(page);
    await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    if (javaScript) {
      await expect(page.getByRole('status')).toHaveText('1 other session was signed out.');
    }
    await expect(page.getByTestId('session-row')).toHaveCount(1);
    await phone.reload();
    await expect(phone.getByRole('link', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByTestId('signed-in-user')).toHaveText(name);
    await phone.context().close();
    await context.close();
  });
}
