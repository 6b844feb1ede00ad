import { Browser, Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test, register, waitForHydration } from './helpers';

// Mail in a real Chromium against a real SMTP server: `scripts/test` runs aiosmtpd
// (scripts/mail-sink) for the shop under test and names its Maildir in SHOP_MAILDIR;
// these tests read the links out of it as a person reads their mailbox.

const maildir = process.env.SHOP_MAILDIR;
const PASSWORD = 'a-long-enough-password'; // the default of `register`
const NEW_PASSWORD = 'a-new-and-long-enough-password';
const LIVE = { timeout: 5_000 };
const uniqueName = (prefix: string) => `${prefix}${Date.now() % 1_000_000}`;

const VERIFY = 'Confirm your address for Oxide & Oak';
const RESET = 'Reset your Oxide & Oak password';
const CHANGED = 'Your Oxide & Oak password was changed';
const NEW_SIGN_IN = 'New sign-in to your Oxide & Oak account';

interface Mail {
  to: string;
  subject: string;
  body: string;
}

/** Every mail in the Maildir: envelope recipient, subject, text (quoted-printable undone). */
function mails(): Mail[] {
  const dir = path.join(maildir!, 'new');
  return fs.readdirSync(dir).map((file) => {
    const raw = fs.readFileSync(path.join(dir, file), 'utf8').replace(/\r\n/g, '\n');
    const split = raw.indexOf('\n\n');
    const head = raw.slice(0, split);
    let body = raw.slice(split + 2);
    const header = (name: string) =>
      head
        .split('\n')
        .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
        ?.slice(name.length + 1)
        .trim() ?? '';
    if (header('Content-Transfer-Encoding').toLowerCase() === 'quoted-printable') {
      body = body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    }
    return { to: header('X-RcptTo'), subject: header('Subject'), body };
  });
}

/** Waits for the `n`-th mail to `to` with this subject and returns it. */
async function mail(to: string, subject: string, n = 1): Promise<Mail> {
  let found: Mail[] = [];
  await expect
    .poll(() => (found = mails().filter((m) => m.to === to && m.subject === subject)).length, {
      message: `mail "${subject}" to ${to}`,
      timeout: 15_000,
    })
    .toBeGreaterThanOrEqual(n);
  return found[n - 1];
}

/** The first link of this path in a mail (`/verify/` or `/reset/`), as a path. */
function link(m: Mail, prefix: string): string {
  const match = m.body.match(new RegExp(`https?://[^\\s/]+(${prefix}[A-Za-z0-9_-]{43})`));
  expect(match, `a ${prefix} link in: ${m.body}`).not.toBeNull();
  return match![1];
}

/** Registers `name` (address `<name>@example.com`) and opens the verification link. */
async function registerVerified(page: Page, name: string): Promise<string> {
  await register(page, name);
  const address = `${name}@example.com`;
  await page.goto(link(await mail(address, VERIFY), '/verify/'));
  await expect(page).toHaveURL(/\/verified\?result=done$/);
  await expect(page.getByTestId('verified')).toHaveText(/Your address is confirmed/);
  return address;
}

async function signIn(browser: Browser, name: string, password = PASSWORD): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(name);
  return page;
}

test.describe('mail', () => {
  test.skip(!maildir, 'needs the SMTP server of scripts/test (SHOP_MAILDIR)');

  test('the verification link from the mailbox confirms the address', async ({ page }) => {
    const name = uniqueName('mailv');
    await register(page, name);
    await page.goto('/account');
    await waitForHydration(page);
    await expect(page.getByTestId('email-pending')).toContainText(`${name}@example.com`);
    await expect(page.getByTestId('email-none')).toBeVisible();
    const verify = link(await mail(`${name}@example.com`, VERIFY), '/verify/');
    await page.goto(verify);
    await expect(page).toHaveURL(/\/verified\?result=done$/);
    await page.getByRole('link', { name: 'Go to your account' }).click();
    await expect(page.getByTestId('email-verified')).toContainText(`${name}@example.com`);
    await expect(page.getByTestId('email-pending')).toHaveCount(0);
    // The link worked once.
    await page.goto(verify);
    await expect(page.getByTestId('verified')).toHaveText(/expired or was already used/);
  });

  test('a forgotten password comes back through the mailbox and signs every other session out live', async ({
    page,
    browser,
  }) => {
    test.setTimeout(60_000);
    const name = uniqueName('mailr');
    const address = await registerVerified(page, name);
    // The same person on a phone, on the account page.
    const phone = await signIn(browser, name);
    await phone.goto('/account');
    await waitForHydration(phone);
    await expect(phone.getByTestId('signed-in-user')).toHaveText(name);

    // On a fresh browser, the password forgotten.
    const laptop = await (await browser.newContext()).newPage();
    await laptop.goto('/login');
    await waitForHydration(laptop);
    await laptop.getByRole('link', { name: 'Forgot your password?' }).click();
    await expect(laptop).toHaveURL(/\/forgot$/);
    await laptop.getByLabel('Email or username').fill(address);
    await laptop.getByRole('button', { name: 'Send the link' }).click();
    await expect(laptop.getByTestId('forgot-sent')).toBeVisible();

    await laptop.goto(link(await mail(address, RESET), '/reset/'));
    // The token left the address bar at once: the form's page has none.
    await expect(laptop).toHaveURL(/\/reset$/);
    await waitForHydration(laptop);
    await expect(laptop.getByTestId('reset-account')).toHaveText(name);
    await laptop.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await laptop.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await laptop.getByRole('button', { name: 'Set the password' }).click();
    await expect(laptop).toHaveURL(/\/account\?reset=1$/);
    await expect(laptop.getByTestId('signed-in-user')).toHaveText(name);
    await expect(laptop.getByTestId('reset-done')).toBeVisible();

    // The phone learns it without a reload: signed out.
    await expect(phone.getByTestId('signed-in-user')).toHaveCount(0, LIVE);
    await expect(phone.locator('header.site-header').getByRole('link', { name: 'Sign in' })).toBeVisible(LIVE);
    // And the mailbox says what happened.
    const changed = await mail(address, CHANGED);
    expect(changed.body).toContain('Every other session of the account was signed out');
    // The new password is the one that works now.
    await (await signIn(browser, name, NEW_PASSWORD)).context().close();
    await phone.context().close();
    await laptop.context().close();
  });

  test('without JavaScript, the forgotten password comes back through plain forms', async ({ browser }) => {
    test.setTimeout(60_000);
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const name = uniqueName('mailnojs');
    const address = `${name}@example.com`;
    await page.goto('/register');
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat the password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByTestId('signed-in-user')).toHaveText(name);
    await page.goto(link(await mail(address, VERIFY), '/verify/'));
    await expect(page.getByTestId('verified')).toHaveText(/Your address is confirmed/);
    await page.locator('header.site-header').getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByTestId('signed-in-user')).toHaveCount(0);

    await page.goto('/forgot');
    await page.getByLabel('Email or username').fill(name);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await expect(page).toHaveURL(/\/forgot\?sent=1$/);
    await expect(page.getByTestId('forgot-sent')).toBeVisible();
    await page.goto(link(await mail(address, RESET), '/reset/'));
    await expect(page).toHaveURL(/\/reset$/);
    await expect(page.getByTestId('reset-account')).toHaveText(name);
    // A refused form comes back with the reason (the link is still held).
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(`${NEW_PASSWORD}-typo`);
    await page.getByRole('button', { name: 'Set the password' }).click();
    await expect(page).toHaveURL(/\/reset\?error=password_mismatch$/);
    await expect(page.getByRole('alert')).toHaveText('The two passwords do not match.');
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the password' }).click();
    await expect(page).toHaveURL(/\/account\?reset=1$/);
    await expect(page.getByTestId('signed-in-user')).toHaveText(name);
    await expect(page.getByTestId('reset-done')).toBeVisible();
    await mail(address, CHANGED);
    await context.close();
  });

  test('a sign-in from a new browser is mailed to the owner', async ({ page, browser }) => {
    const name = uniqueName('mailn');
    const address = await registerVerified(page, name);
    // The browser that registered is known: signing out and in again there is no news.
    await page.goto('/');
    await waitForHydration(page);
    await page.locator('header.site-header').getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByTestId('signed-in-user')).toHaveCount(0);
    await page.goto('/login');
    await waitForHydration(page);
    await page.getByLabel('Username').fill(name);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByTestId('signed-in-user')).toHaveText(name);
    // A fresh context is a new browser.
    const other = await signIn(browser, name);
    const notice = await mail(address, NEW_SIGN_IN);
    expect(notice.body).toMatch(/Device:  Chrome on \w+/);
    expect(notice.body).toMatch(/\/account\n/);
    expect(notice.body).not.toMatch(/\/(reset|verify)\//);
    await page.waitForTimeout(500);
    expect(mails().filter((m) => m.to === address && m.subject === NEW_SIGN_IN)).toHaveLength(1);
    await other.context().close();
  });
});
