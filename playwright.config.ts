import { readFileSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

export type EpOptions = { ep: 'wasm' | 'webgpu' };

// PW_PORT lets two checkouts run their e2e suites side by side.
const PORT = Number(process.env.PW_PORT ?? 4173);

// One list for the tests and bench/run.mjs (which cannot import this TypeScript file).
const chromium = JSON.parse(readFileSync(new URL('./e2e/chromium.json', import.meta.url), 'utf8')) as {
  executablePath: string;
  args: string[];
};
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? chromium.executablePath;
export const CHROMIUM_ARGS = chromium.args;

export default defineConfig<EpOptions>({
  testDir: 'e2e',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1, // 2 cores: the app itself uses WASM threads
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 60_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: CHROMIUM_PATH,
      args: CHROMIUM_ARGS,
    },
  },
  projects: [
    { name: 'wasm', use: { ep: 'wasm' } },
    // SwiftShader (software WebGPU) is ~100× slower than WASM here: only the @webgpu tests, generous timeouts.
    {
      name: 'webgpu',
      use: { ep: 'webgpu' },
      grep: /@webgpu/,
      timeout: 540_000,
      expect: { timeout: 480_000 },
    },
  ],
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
});
