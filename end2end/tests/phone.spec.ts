import { expect, test, register } from './helpers';

// On a phone, signed in, the header is one row (name, search, cart, menu) and every
// control is on screen once the menu is open; nothing scrolls sideways.
for (const width of [320, 390]) {
  test(`the header fits a ${width} px wide screen`, async ({ page }) => {
    await page.setViewportSize({ width, height: 740 });
    await register(page, `phone${width}${Date.now() % 100000}`);
    for (const path of ['/', '/cart', '/account']) {
      await page.goto(path);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
      const header = page.locator('header.site-header');
      const closed = await header.boundingBox();
      expect(closed!.height, `${path}: the closed header is one row`).toBeLessThanOrEqual(64);
      await expect(header.getByRole('link', { name: 'Orders' })).toBeHidden();
      await expect(header.getByRole('link', { name: 'Cart' })).toBeVisible();
      await expect(header.getByRole('link', { name: 'Search' })).toBeVisible();
      await header.locator('label.menu-button').click();
      const controls = [
        header.getByRole('link', { name: 'Oxide & Oak' }),
        header.getByRole('link', { name: 'Catalog' }),
        header.getByRole('link', { name: 'Cart' }),
        header.getByRole('link', { name: 'Orders' }),
        header.getByRole('link', { name: 'Account' }),
        header.getByRole('button', { name: 'Sign out' }),
      ];
      for (const control of controls) {
        await expect(control).toBeVisible();
        const box = await control.boundingBox();
        expect(box, `${path}: a header control has no box`).not.toBeNull();
        expect(box!.x, `${path}: a control starts off screen`).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width, `${path}: a control runs off the right edge`).toBeLessThanOrEqual(width);
      }
      // The cart icon is drawn, not an emoji a system may lack.
      await expect(header.locator('svg.cart-link__icon')).toHaveCount(1);
    }
  });
}
