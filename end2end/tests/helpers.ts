import { expect, Page } from '@playwright/test';

/** Waits until the wasm has hydrated the page (the app marks <body> once it runs). */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

/** Registers a new account through the form and waits until the header shows it. */
export async function register(page: Page, name: string, password = 'a-long-enough-password'): Promise<void> {
  await page.goto('/register');
  await waitForHydration(page);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat the password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(name);
}
