import { CDPSession, Page } from '@playwright/test';
import { expect, test, register, waitForHydration } from './helpers';

// Passkeys in a real Chromium, with its virtual authenticator (CDP `WebAuthn`): a
// platform authenticator (internal transport, CTAP2) that keeps discoverable keys,
// verifies the user and answers without a touch. WebAuthn needs a domain name, so the
// shop is at http://localhost:PORT (playwright.config.ts) or https://localhost:PORT.
const SUDO_SECS = Number(process.env.SUDO_SECS ?? 15);
const PASSWORD = 'a-long-enough-password';

async function virtualAuthenticator(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return cdp;
}

/** Adds a passkey on the account page; its row's name. */
async function addPasskey(page: Page, name: string): Promise<void> {
  await page.goto('/account');
  await waitForHydration(page);
  await page.getByLabel('Name of the new passkey (optional)').fill(name);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await expect(page.getByText(`Passkey “${name}” added.`)).toBeVisible();
  await expect(page.getByTestId('passkey-row').filter({ hasText: name })).toHaveCount(1);
}

test('add a passkey, sign out, sign in with it without typing a name (the guest cart comes along), remove it', async ({
  page,
}) => {
  await virtualAuthenticator(page);
  const name = `pk${Date.now() % 1_000_000}`;
  await register(page, name);
  await page.goto('/account');
  await waitForHydration(page);
  await expect(page.getByTestId('no-passkeys')).toBeVisible();
  await addPasskey(page, 'My laptop');
  const row = page.getByTestId('passkey-row');
  await expect(row).toContainText('This device only');
  await expect(row).toContainText('never used');

  // Signed out, a guest puts something in the cart.
  await page.goto('/');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
  await page.goto('/products/canvas-tote');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.getByRole('status')).toHaveText('Added to your cart.');

  // No name typed: the login page offers the passkey in the username field's autofill
  // (conditional mediation), and the virtual authenticator picks it as a person would.
  await page.goto('/login?next=/cart');
  await expect(page).toHaveURL(/^[^?]*\/cart$/);
  await expect(page.getByTestId('signed-in-user')).toHaveText(name);
  await expect(page.getByTestId('line-canvas-tote').getByTestId('qty')).toHaveText('1');

  // The account page says how, and when the passkey was used.
  await page.goto('/account');
  await waitForHydration(page);
  await expect(page.getByTestId('security-log').locator('li').first()).toContainText('Signed in with a passkey on Chrome');
  await expect(row).toContainText('last used');
  await row.getByLabel('New name for My laptop').fill('Work laptop');
  await row.getByRole('button', { name: 'Rename' }).click();
  await expect(row.locator('strong')).toHaveText('Work laptop');

  // A browser without autofill for passkeys: the button does the same.
  await page.addInitScript(() => {
    (window.PublicKeyCredential as unknown as { isConditionalMediationAvailable: () => Promise<boolean> }).isConditionalMediationAvailable =
      async () => false;
  });
  const signOut = async () => {
    await page.goto('/');
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
  };
  await signOut();
  await page.goto('/login?next=/account');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page).toHaveURL(/^[^?]*\/account$/);
  await expect(page.getByTestId('signed-in-user')).toHaveText(name);

  // Removed (the sign-in was a proof: no confirmation needed now), it cannot sign in.
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Remove Work laptop' }).click();
  await expect(page.getByTestId('no-passkeys')).toBeVisible();
  await expect(page.getByTestId('security-log').locator('li').first()).toContainText('Passkey removed');
  await signOut();
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(page.getByRole('alert')).toContainText('That passkey was not accepted');
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
});

test('a stale proof is renewed with the passkey, then with the password', async ({ page, browser }) => {
  test.setTimeout(90_000);
  await virtualAuthenticator(page);
  const name = `pks${Date.now() % 1_000_000}`;
  await register(page, name);
  await addPasskey(page, 'Laptop');
  const phone = await (await browser.newContext()).newPage();
  const signInPhone = async () => {
    await phone.goto('/login');
    await waitForHydration(phone);
    await phone.getByLabel('Username').fill(name);
    await phone.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await phone.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(phone.getByTestId('signed-in-user')).toHaveText(name);
  };
  const signOutOthers = async () => {
    await page.goto('/account');
    await waitForHydration(page);
    await page.waitForTimeout((SUDO_SECS + 1) * 1000);
    await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await expect(page).toHaveURL(/\/confirm\?next=(\/|%2F)account$/);
    await waitForHydration(page);
  };
  const othersSignedOut = async () => {
    await expect(page).toHaveURL(/^[^?]*\/account$/);
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
    await expect(page.getByText('1 other session was signed out.')).toBeVisible();
    await phone.reload();
    await expect(phone.getByRole('link', { name: 'Sign in' })).toBeVisible();
  };

  await signInPhone();
  await signOutOthers();
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await othersSignedOut();

  await signInPhone();
  await signOutOthers();
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await othersSignedOut();
  await phone.context().close();
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('no passkey control is offered, and the password still signs in', async ({ page }) => {
    await page.goto('/login');
    await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign in with a passkey' })).toHaveCount(0);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('wonderland-2026');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByTestId('signed-in-user')).toHaveText('alice');
    await page.goto('/account');
    await expect(page.getByRole('button', { name: 'Add a passkey' })).toHaveCount(0);
  });
});
