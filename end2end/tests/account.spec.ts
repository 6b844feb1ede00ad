import { expect, test, register, waitForHydration } from './helpers';

test('see your sessions, sign out another device, change the password', async ({ page, browser }) => {
  const name = `acct${Date.now() % 1_000_000}`;
  await register(page, name);

  // The same person on a second device.
  const other = await browser.newContext();
  const phone = await other.newPage();
  await phone.goto('/login');
  await waitForHydration(phone);
  await phone.getByLabel('Username').fill(name);
  await phone.getByLabel('Password', { exact: true }).fill('a-long-enough-password');
  await phone.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(phone.getByTestId('signed-in-user')).toHaveText(name);

  await page.getByRole('link', { name: 'Account' }).click();
  await expect(page).toHaveURL(/^[^?]*\/account$/);
  await expect(page.getByTestId('session-row')).toHaveCount(2);
  await expect(page.locator('[data-current="true"]')).toContainText('This device');

  await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
  await expect(page.getByRole('status')).toHaveText('1 other session was signed out.');
  await expect(page.getByTestId('session-row')).toHaveCount(1);
  await phone.reload();
  await expect(phone.getByRole('link', { name: 'Sign in' })).toBeVisible();
  await other.close();

  // A wrong current password is refused inline; the right one changes it.
  await page.getByLabel('Current password').fill('not-my-password-at-all');
  await page.getByLabel('New password', { exact: true }).fill('a-newer-long-password');
  await page.getByLabel('Repeat the new password').fill('a-newer-long-password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByRole('alert')).toHaveText('Your current password is not right.');
  await expect(page.getByLabel('Current password')).toHaveValue('');
  await page.getByLabel('Current password').fill('a-long-enough-password');
  await page.getByLabel('New password', { exact: true }).fill('a-newer-long-password');
  await page.getByLabel('Repeat the new password').fill('a-newer-long-password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await expect(page.getByText('Your password is changed.')).toBeVisible();
  await expect(page.getByTestId('signed-in-user')).toHaveText(name);
});
