import { expect, test, sessionCookie, waitForHydration } from './helpers';

// The production configuration in a real browser: the https front of `scripts/cluster`
// (nginx with HTTP/2 in front of the shop processes, `COOKIE_SECURE` on). Over plain
// http (the SQLite run) there is nothing of it to see, and the test says it is skipped.
test.describe('over https, as in production', () => {
  test.skip(
    ({ baseURL }) => !baseURL?.startsWith('https:'),
    'plain http here: this runs in the https cluster run of scripts/test',
  );

  test('the browser keeps a __Host- cookie, gets HSTS and the CSP, over HTTP/2', async ({ page, context }) => {
    const res = await page.goto('/login');
    expect(res?.status()).toBe(200);
    const headers = res!.headers();
    expect(headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect(headers['content-security-policy']).toContain("'nonce-");
    await waitForHydration(page);
    const protocol = await page.evaluate(
      () => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol,
    );
    expect(protocol).toBe('h2');

    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password', { exact: true }).fill('wonderland-2026');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByTestId('signed-in-user')).toHaveText('alice');

    // The cookie as the browser stored it.
    const cookies = await context.cookies();
    const sid = sessionCookie(cookies);
    expect(sid?.name).toBe('__Host-sid');
    expect(sid!.secure).toBe(true);
    expect(sid!.httpOnly).toBe(true);
    expect(sid!.sameSite).toBe('Lax');
    expect(sid!.path).toBe('/');
    // Host-only (no Domain attribute, which __Host- forbids), and gone with the browser
    // session (no "keep me signed in").
    expect(sid!.domain).toBe('localhost');
    expect(sid!.expires).toBe(-1);
    expect(cookies.filter((c) => c.name === 'sid')).toEqual([]);
    await page.goto('/account');
    await expect(page.getByRole('heading', { name: 'Your account' })).toBeVisible();
  });

  test('plain http is sent to https', async ({ playwright, baseURL }) => {
    const plain = process.env.SHOP_HTTP_URL;
    expect(plain, 'SHOP_HTTP_URL: the front\'s plain http address').toBeTruthy();
    const client = await playwright.request.newContext();
    const res = await client.get(`${plain}/cart?x=1`, { maxRedirects: 0 });
    expect(res.status()).toBe(301);
    expect(res.headers()['location']).toBe(`${baseURL}/cart?x=1`);
  });
});
