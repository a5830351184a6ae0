/** Playwright fixtures: the `ep` option (per project) and console/page-error capture. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import type { EpOptions } from '../playwright.config';

export const test = base.extend<EpOptions & { consoleErrors: string[] }>({
  ep: ['wasm', { option: true }],
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    await use(errors);
  },
});
export { expect };

/** Opens the app with the project's provider forced and waits for the model. */
export async function openApp(page: Page, ep: string, extra = ''): Promise<void> {
  await page.goto(`./?ep=${ep}${extra}`);
  await expect(page.getByTestId('app')).toHaveAttribute('data-model-status', 'ready', { timeout: 120_000 });
  await expect(page.getByTestId('app')).toHaveAttribute('data-provider', ep);
}

/** Samples the gallery shows for the default model: those its manifest lists (manifest.samples). */
export function samplesInBuild(model = 'toklip-tiny'): number {
  const file = resolve(import.meta.dirname, `../public/models/${model}/manifest.json`);
  if (!existsSync(file)) return 0;
  const m = JSON.parse(readFileSync(file, 'utf8')) as { samples?: unknown[] };
  return m.samples?.length ?? 0;
}
