import { test as base, Cookie, expect, Page } from '@playwright/test';

export { expect };

/**
 * Playwright's `test`, which also says, when a test fails, where its page was and what
 * the session cookie went through: the page's URL, its headings, the cookies the context
 * holds (names only), and the page's recent requests with the cookies each answer set or
 * removed. A failure in CI leaves no trace file behind; this is what is left to read.
 * Never a cookie's value: a session token does not belong in a log, even a test's.
 */
export const test = base.extend<{ failureReport: void }>({
  failureReport: [
    async ({ page, context }, use, testInfo) => {
      await use();
      if (testInfo.status === testInfo.expectedStatus) return;
      const lines: string[] = [];
      for (const p of context.pages()) {
        lines.push(`page ${p === page ? '(the test\'s)' : '(another)'}: ${p.url()}`);
        const headings = await p
          .locator('h1, h2')
          .allInnerTexts()
          .catch(() => [] as string[]);
        lines.push(`  headings: ${headings.map((h) => JSON.stringify(h)).join(', ') || 'none'}`);
        for (const r of await p.requests().catch(() => [])) {
          const response = await r.response().catch(() => null);
          const set = response ? setCookieNames(await response.headersArray()) : '';
          const outcome = r.failure()?.errorText ?? `${response?.status() ?? 'no response'}`;
          lines.push(`  ${r.method()} ${new URL(r.url()).pathname} → ${outcome}${set}`);
        }
      }
      const cookies = await context.cookies().catch(() => [] as Cookie[]);
      lines.push(`cookies: ${cookies.map((c) => c.name).join(', ') || 'none'}`);
      console.log(`\n[what the browser saw when "${testInfo.title}" failed]\n${lines.join('\n')}\n`);
    },
    { auto: true },
  ],
});

/** ` sets: sid, device` or ` removes: sid` for a response's Set-Cookie headers. */
function setCookieNames(headers: { name: string; value: string }[]): string {
  const said = headers
    .filter((h) => h.name.toLowerCase() === 'set-cookie')
    .flatMap((h) => h.value.split('\n'))
    .map((c) => {
      const name = c.split('=')[0].trim();
      return /max-age=0\b/i.test(c) ? `-${name}` : `+${name}`;
    });
  return said.length ? ` cookies: ${said.join(' ')}` : '';
}

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
  // The page may be gone by now (the test ran out of time): say so, not something else.
  if (page.isClosed()) return `  ${lines[0]} (the page was closed: the test's time ran out)`;
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
