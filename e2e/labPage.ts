/** Page steps shared by the token lab, token order and gallery search specs. */
import type { Locator, Page } from '@playwright/test';
import { expect } from './fixtures';

/** A JSON attribute the app sets on an element, parsed; fails if the attribute is absent. */
export async function json<T>(loc: Locator, name: string): Promise<T> {
  const v = await loc.getAttribute(name);
  expect(v, `${name} is shown`).not.toBeNull();
  return JSON.parse(v!) as T;
}

/**
 * The first bundled sample, processed. `timeout`: for the processing (WebGPU on SwiftShader needs minutes); the
 * default is the project's expect timeout.
 */
export async function loadSample(page: Page, timeout?: number): Promise<Locator> {
  const samples = page.getByTestId('samples').getByRole('button');
  await expect(samples.first(), 'the build bundles samples (listed in the manifest)').toBeVisible();
  await samples.first().click();
  const card = page.getByTestId('image-card').first();
  await expect(card).toHaveAttribute('data-status', 'done', timeout ? { timeout } : undefined);
  await expect(card).toHaveAttribute('data-cosines', /\[/);
  return card;
}

/** The lab shows results for exactly the ids it shows (data-lab-cosines is only set then) and nothing is running. */
export async function settled(lab: Locator): Promise<void> {
  await expect(lab).toHaveAttribute('data-lab-cosines', /\[/);
  await expect(lab).toHaveAttribute('data-lab-state', 'idle');
}

export async function canvasRgba(canvas: Locator): Promise<number[]> {
  return canvas.evaluate((c: HTMLCanvasElement) =>
    Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data),
  );
}

/**
 * PixelCanvas draws in an effect, just after the render that set the lab's attributes: wait until `canvas` is
 * drawn and `ready` holds for its pixels, then return them.
 */
export async function drawn(
  canvas: Locator,
  ready: (px: number[]) => boolean = () => true,
): Promise<number[]> {
  let px: number[] = [];
  await expect
    .poll(async () => {
      px = await canvasRgba(canvas);
      return px[3] === 255 && ready(px);
    })
    .toBe(true);
  return px;
}
