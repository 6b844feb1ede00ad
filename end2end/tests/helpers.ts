import { expect, Page } from '@playwright/test';

/** Waits until the wasm has hydrated the page (the app marks <body> once it runs). */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}
