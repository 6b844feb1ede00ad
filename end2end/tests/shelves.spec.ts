import { Page } from '@playwright/test';
import { expect, test, waitForHydration } from './helpers';

// Pages, departments, categories, facets, filters, typos and suggestions, on whatever
// catalog the shop holds (the test command loads 10,000 products beside the demo's).

const cards = (page: Page) => page.locator('.product-card');
/** The products on the page, by their links (slugs are unique; names need not be). */
const shown = (page: Page) =>
  page.locator('.product-card__link').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
const prices = async (page: Page) =>
  (await page.locator('.product-card__price').allTextContents()).map((t) => parseFloat(t.replace(/[$,]/g, '')));
const mark = (page: Page) => page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'same-page'));
const marked = (page: Page) => page.evaluate(() => (window as unknown as { __marker?: string }).__marker);

test('pages follow each other forwards and back, client-side, and Back returns to the page and place', async ({
  page,
}) => {
  await page.goto('/');
  await waitForHydration(page);
  await mark(page);
  const first = await shown(page);
  expect(first).toHaveLength(24);
  await page.getByRole('link', { name: 'Next page →' }).click();
  await expect(page).toHaveURL(/\/\?after=\d+$/);
  await expect.poll(() => shown(page)).not.toEqual(first);
  const second = await shown(page);
  expect(second).toHaveLength(24);
  expect(second.filter((href) => first.includes(href))).toEqual([]);
  // Down the second page to its link, on to the third (which starts at the top), and
  // Back: the second again, where it was left.
  const next = page.getByRole('link', { name: 'Next page →' });
  await next.scrollIntoViewIfNeeded();
  const left = await page.evaluate(() => window.scrollY);
  expect(left).toBeGreaterThan(300);
  await next.click();
  await expect.poll(() => shown(page)).not.toEqual(second);
  await expect.poll(() => page.evaluate(() => window.scrollY)).toBe(0);
  await page.goBack();
  await expect.poll(() => shown(page)).toEqual(second);
  await expect.poll(() => page.evaluate(() => window.scrollY)).toBe(left);
  // The previous page's link leads back to the first.
  await page.getByRole('link', { name: '← Previous page' }).click();
  await expect.poll(() => shown(page)).toEqual(first);
  await expect(page.getByRole('link', { name: '← Previous page' })).toHaveCount(0);
  expect(await marked(page)).toBe('same-page');
});

test('a department, a category, its facets and its filters, client-side', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  await mark(page);
  const facets = page.getByRole('navigation', { name: 'Categories' });
  await facets.getByRole('link', { name: 'Kitchen', exact: true }).click();
  await expect(page).toHaveURL(/\/c\/kitchen$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kitchen');
  const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' });
  await expect(crumbs).toHaveText('Catalog / Kitchen');
  // The category's count in the facets is what its own page says it holds.
  const facet = facets.getByRole('listitem').filter({ hasText: 'Teapots & kettles' });
  const count = (await facet.locator('.facet-count').textContent())!.trim();
  await facet.getByRole('link').click();
  await expect(page).toHaveURL(/\/c\/teapots-kettles$/);
  await expect(crumbs).toHaveText('Catalog / Kitchen / Teapots & kettles');
  await expect(page.getByTestId('found')).toHaveText(count === '1' ? '1 product' : `${count} products`);
  await expect(facets.locator('a[aria-current="page"]')).toHaveText('Teapots & kettles');
  await expect(cards(page).first()).toBeVisible();
  // In stock only, and a price from $50: applied at once, in the address, every card matching.
  await page.getByLabel('In stock only').check();
  await expect(page).toHaveURL(/\/c\/teapots-kettles\?stock=1$/);
  await expect(page.locator('.stock--out')).toHaveCount(0);
  await page.getByLabel('Price from').fill('50');
  await page.getByLabel('Price from').press('Tab');
  await expect(page).toHaveURL(/\/c\/teapots-kettles\?min=50&stock=1$/);
  await expect.poll(async () => (await prices(page)).every((p) => p >= 50)).toBe(true);
  expect((await prices(page)).length).toBeGreaterThan(0);
  // The breadcrumb back to the department keeps the filters.
  await crumbs.getByRole('link', { name: 'Kitchen' }).click();
  await expect(page).toHaveURL(/\/c\/kitchen\?min=50&stock=1$/);
  expect(await marked(page)).toBe('same-page');
});

test('a typo still finds the product, and the page says what it searched for', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  await page.getByPlaceholder('Search products').pressSequentially('whistlng', { delay: 20 });
  await expect(page.locator('.corrected')).toContainText('Showing results for “whistling”');
  await expect(page.locator('.product-card__name').first()).toHaveText('Copper Kettle');
  // The word matched is marked in the name found by its name.
  await page.getByPlaceholder('Search products').fill('');
  await page.getByPlaceholder('Search products').pressSequentially('Copper Kettle', { delay: 20 });
  await expect(page.locator('.product-card__name').first()).toHaveText('Copper Kettle');
  await expect(page.locator('.product-card__name').first().locator('mark')).toHaveText(['Copper', 'Kettle']);
});

test('suggestions while typing; a newer text aborts the request still out for an older one', async ({ page }) => {
  await page.goto('/');
  await waitForHydration(page);
  let aborted = 0;
  page.on('requestfailed', (r) => {
    if (r.url().includes('/api/suggest')) aborted++;
  });
  // Every suggestion takes 800 ms to come back, so that typing overtakes them.
  await page.route('**/api/suggest?**', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 800));
    await route.continue().catch(() => {});
  });
  const box = page.getByPlaceholder('Search products');
  for (const letter of 'herringbon') {
    await box.press(letter);
    await page.waitForTimeout(350); // past the pause that sends a request, before its answer
  }
  await box.press('e');
  await expect(page.getByTestId('suggestions').locator('option').first()).toHaveAttribute('value', 'Wool Throw');
  expect(aborted, 'requests overtaken by newer text were aborted').toBeGreaterThan(0);
});

test.describe('without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('pages are plain links forwards and back', async ({ page }) => {
    await page.goto('/?sort=price_asc');
    const first = await shown(page);
    expect(first).toHaveLength(24);
    await page.getByRole('link', { name: 'Next page →' }).click();
    await expect(page).toHaveURL(/\/\?sort=price_asc&after=\d+$/);
    const second = await shown(page);
    expect(second).toHaveLength(24);
    expect(second.filter((href) => first.includes(href))).toEqual([]);
    const [low, high] = [(await prices(page))[0], Math.max(...(await prices(page)))];
    expect(low).toBeLessThanOrEqual(high);
    await page.getByRole('link', { name: '← Previous page' }).click();
    await expect(page).toHaveURL(/\/\?sort=price_asc&before=\d+$/);
    expect(await shown(page)).toEqual(first);
  });

  test('a category filtered by a plain GET form, its facets links', async ({ page }) => {
    await page.goto('/c/kitchen');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Kitchen');
    await page.getByLabel('Price from').fill('20');
    await page.getByLabel('to', { exact: true }).fill('30');
    await page.getByLabel('In stock only').check();
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page).toHaveURL(/\/c\/kitchen\?q=&sort=best&min=20&max=30&stock=1$/);
    const found = await prices(page);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((p) => p >= 20 && p <= 30)).toBe(true);
    await expect(page.locator('.stock--out')).toHaveCount(0);
    // A facet keeps the filters.
    await page.getByRole('navigation', { name: 'Categories' }).getByRole('link', { name: 'Serveware' }).click();
    await expect(page).toHaveURL(/\/c\/serveware\?min=20&max=30&stock=1$/);
    await expect(page.getByLabel('Price from')).toHaveValue('20');
  });
});
