import { Cookie, expect, Page } from '@playwright/test';

/** The session cookie: `sid` over plain http, `__Host-sid` over https (the production name). */
export function sessionCookie(cookies: Cookie[]): Cookie | undefined {
  return cookies.find((c) => c.name === 'sid' || c.name === '__Host-sid');
}

/**
 * Waits until the wasm has hydrated the page (the app marks <body> once it runs).
 *
 * When it never does, the error says why as far as the browser can tell: the page's
 * errors and console messages since the last navigation, the requests it made with
 * their status, and the policy the page was sent with.
 */
export async function waitForHydration(page: Page): Promise<void> {
  try {
    await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n\nwhy the page did not hydrate:\n${await hydrationReport(page)}`);
  }
}

/** What the browser saw of the current document: errors, console, requests. */
async function hydrationReport(page: Page): Promise<string> {
  const lines: string[] = [`url: ${page.url()}`];
  for (const e of await page.pageErrors({ filter: 'since-navigation' })) lines.push(`page error: ${e.message}`);
  for (const m of await page.consoleMessages({ filter: 'since-navigation' }))
    lines.push(`console.${m.type()}: ${m.text().slice(0, 500)}`);
  for (const r of await page.requests()) {
    const response = await r.response().catch(() => null);
    const failure = r.failure()?.errorText;
    let detail = failure ? `failed: ${failure}` : `${response?.status() ?? 'no response'}`;
    if (response && r.resourceType() === 'document')
      detail += ` csp: ${(await response.allHeaders())['content-security-policy'] ?? 'none'}`;
    lines.push(`${r.method()} ${r.url()} → ${detail}`);
  }
  return lines.map((l) => `  ${l}`).join('\n');
}

/** Registers a new account (address `<name>@example.com`) through the form and waits
 *  until the header shows it. */
export async function register(page: Page, name: string, password = 'a-long-enough-password'): Promise<void> {
  await page.goto('/register');
  await waitForHydration(page);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Email').fill(`${name}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Repeat the password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByTestId('signed-in-user')).toHaveText(name);
}
