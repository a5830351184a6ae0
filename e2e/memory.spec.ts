/**
 * Memory: 200 images processed in a row (rounds of 10 drawn from a few generated pictures, each round removed
 * before the next, as a user working through a folder would). Recorded after the first round (sessions
 * created, warm), in the middle and at the end, each after a forced GC: the page JS heap, the inference
 * worker's JS heap and the ArrayBuffer/WebAssembly backing stores it holds (DevTools protocol on the worker
 * target), and the size of onnxruntime's WebAssembly memory. All of them must stay flat within the stated
 * tolerance, and the page heap may not grow by more than a few KB per image. Every ORT tensor the worker
 * created must have been disposed. The browser's own per-context breakdown
 * (performance.measureUserAgentSpecificMemory) is recorded as extra information when it answers in time.
 * Numbers are printed and saved to e2e/artifacts/memory.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CDPSession, Page, Worker } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../playwright.config';
import { testPicture } from './png';
import { expect, openApp, test } from './fixtures';

const TOTAL = Number(process.env.MEMORY_IMAGES ?? 200);
const PER_ROUND = 10;
const ROUNDS = Math.ceil(TOTAL / PER_ROUND);
/** allowed growth from the warm start to the end: the larger of 8 MiB and 20 % (page, worker, UA totals) */
const TOLERANCE = { bytes: 8 * 1024 * 1024, fraction: 0.2 };
/**
 * Page heap growth allowed per processed-then-removed image, so that a short run (MEMORY_IMAGES=40) is held
 * to "flat" as well: 8 MiB over 30 images would hide a leak of about 280 KB per image. A shown card holds
 * about half a MiB of page JS heap (its token grid alone is h×w elements with handlers), so keeping any
 * sizeable part of removed cards fails this; what stays under it is V8 still optimising code as the run
 * goes on.
 */
const PAGE_BYTES_PER_IMAGE = 5 * 1024;
/**
 * Per-image bounds for the inference worker's JS heap (used) and onnxruntime's WebAssembly memory, held over
 * the second half of the run like the page's: the 8 MiB / 20 % tolerance alone lets a leak of 40–80 KB per
 * image pass over 200 images.
 * Measured 2026-11-29, 200 images, WASM, TokLIP-Tiny (the numbers this test prints):
 *   worker JS heap used  3.77 → 3.86 → 3.91 MiB at 10 / 100 / 200 images: 0.47 KB per image from 100 to 200
 *                        (1.0 KB in the first half, while code is still being optimised)
 *   wasm memory          74.75 MiB at all three points: 0 KB per image
 * The worker bound is set just above today's slope, at 2 KB per image. onnxruntime's wasm memory grows in
 * steps (its emscripten glue grows the heap by 20 % of its size, less only when that fails: here about 15 MiB,
 * i.e. about 150 KB per image over 100 images),
 * so its bound of 1 KB per image means "no growth in the second half"; a leak that still fits in the free
 * space inside the heap is not visible in this figure (the live-tensor count covers ORT's own tensors).
 */
const WORKER_HEAP_BYTES_PER_IMAGE = 2 * 1024;
const WASM_BYTES_PER_IMAGE = 1024;

test.use({
  // Playwright's trace recorder keeps DOM snapshots state in the page: it would be measured as a leak.
  trace: 'off',
  screenshot: 'off',
  launchOptions: {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS, '--enable-precise-memory-info', '--js-flags=--expose-gc'],
  },
});
test.setTimeout(Math.max(300_000, TOTAL * 5_000));

interface Sample {
  images: number;
  pageHeap: number;
  /** the inference worker's V8 heap, used and reserved (Runtime.getHeapUsage) */
  workerHeapUsed: number;
  workerHeapTotal: number;
  /** ArrayBuffer backing stores held by the worker's isolate (V8 leaves the shared wasm memory out) */
  workerBackingStores: number;
  /** onnxruntime's WebAssembly memory (it grows, never shrinks: a leak in the wasm heap shows as growth) */
  wasmMemory: number;
  liveTensors: number;
  tensorsCreated: number;
  uaTotal: number | null;
  uaWindow: number | null;
  uaWorker: number | null;
}

type Debug = {
  stats: () => Promise<{ liveTensors: number; tensorsCreated: number }>;
};

type PageSample = Omit<Sample, 'workerHeapUsed' | 'workerHeapTotal' | 'workerBackingStores' | 'wasmMemory'>;

async function measurePage(page: Page, images: number): Promise<PageSample> {
  return page.evaluate(async (n) => {
    const w = window as Window & { gc?: () => void; __toklipDebug?: Debug };
    const stats = await w.__toklipDebug!.stats(); // collects the worker's garbage first
    for (let i = 0; i < 3; i++) w.gc?.();
    const pageHeap = (performance as Performance & { memory: { usedJSHeapSize: number } }).memory
      .usedJSHeapSize;
    let uaTotal: number | null = null;
    let uaWindow: number | null = null;
    let uaWorker: number | null = null;
    const p = performance as Performance & {
      measureUserAgentSpecificMemory?: () => Promise<{
        bytes: number;
        breakdown: { bytes: number; attribution: { scope: string }[] }[];
      }>;
    };
    if (crossOriginIsolated && p.measureUserAgentSpecificMemory) {
      const pending = p.measureUserAgentSpecificMemory();
      w.gc?.();
      const r = await Promise.race([pending, new Promise<null>((ok) => setTimeout(() => ok(null), 30_000))]);
      if (r) {
        uaTotal = r.bytes;
        const by = (scope: string) =>
          r.breakdown
            .filter((b) => b.attribution.some((a) => a.scope === scope))
            .reduce((s, b) => s + b.bytes, 0);
        uaWindow = by('Window');
        uaWorker = by('DedicatedWorkerGlobalScope');
      }
    }
    return {
      images: n,
      pageHeap,
      liveTensors: stats.liveTensors,
      tensorsCreated: stats.tensorsCreated,
      uaTotal,
      uaWindow,
      uaWorker,
    };
  }, images);
}

function within<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(why)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * The inference worker seen through the DevTools protocol. The worker's own `performance.memory` does not
 * exist in this Chromium and measureUserAgentSpecificMemory rarely answers within half a minute, so neither
 * can hold the worker to "flat" in every run; Runtime.getHeapUsage on the worker target answers at once.
 * Playwright's CDPSession speaks only to pages, so the worker's session is a non-flat one: its messages go
 * through Target.sendMessageToTarget and come back as Target.receivedMessageFromTarget.
 */
class WorkerInspector {
  private nextId = 0;
  private readonly replies = new Map<
    number,
    (m: { result?: unknown; error?: { message: string } }) => void
  >();

  private constructor(
    private readonly cdp: CDPSession,
    private readonly sessionId: string,
  ) {
    cdp.on('Target.receivedMessageFromTarget', (e) => {
      if (e.sessionId !== sessionId) return;
      const m = JSON.parse(e.message) as { id?: number; result?: unknown; error?: { message: string } };
      if (m.id !== undefined) this.replies.get(m.id)?.(m);
    });
  }

  /** Attaches to the page's dedicated worker whose script URL contains `urlPart` (waits for it). */
  static async attach(page: Page, urlPart: string): Promise<WorkerInspector> {
    const cdp = await page.context().newCDPSession(page);
    const found = new Promise<string>((ok) =>
      cdp.on('Target.attachedToTarget', (e) => {
        if (e.targetInfo.type === 'worker' && e.targetInfo.url.includes(urlPart)) ok(e.sessionId);
      }),
    );
    // Reports the workers that already exist as well as later ones; waitForDebuggerOnStart stays off so
    // that this session never holds a worker back.
    await cdp.send('Target.setAutoAttach', {
      autoAttach: true,
      waitForDebuggerOnStart: false,
      flatten: false,
    });
    return new WorkerInspector(cdp, await within(found, 30_000, `no worker target for ${urlPart}`));
  }

  async send<T>(method: string, params: object = {}): Promise<T> {
    const id = ++this.nextId;
    // The worker answers between its tasks; an answer that never comes fails the test instead of hanging it.
    const reply = within(
      new Promise<{ result?: unknown; error?: { message: string } }>((ok) => this.replies.set(id, ok)),
      60_000,
      `worker did not answer ${method} in 60 s`,
    ).finally(() => this.replies.delete(id));
    await this.cdp.send('Target.sendMessageToTarget', {
      sessionId: this.sessionId,
      message: JSON.stringify({ id, method, params }),
    });
    const m = await reply;
    if (m.error) throw new Error(`${method}: ${m.error.message}`);
    return m.result as T;
  }
}

/**
 * onnxruntime keeps its WebAssembly.Memory in module scope, out of reach of an evaluate. Its JS glue, built
 * for threads and a growable memory, reads `memory.buffer` before each access to the wasm heap to notice
 * growth, so a wrapper on the prototype's `buffer` getter sees the memory at the next run and then steps
 * aside. Only a WeakRef is kept: the measurement does not hold the memory alive.
 */
function watchWasmMemory(): void {
  const g = globalThis as { __memoryTestWasm?: WeakRef<WebAssembly.Memory> };
  const proto = WebAssembly.Memory.prototype;
  const original = Object.getOwnPropertyDescriptor(proto, 'buffer')!;
  Object.defineProperty(proto, 'buffer', {
    ...original,
    get(this: WebAssembly.Memory) {
      const buffer = original.get!.call(this) as ArrayBuffer;
      if (buffer.byteLength > 0) {
        g.__memoryTestWasm = new WeakRef(this);
        Object.defineProperty(proto, 'buffer', original);
      }
      return buffer;
    },
  });
}

async function measureWorker(inspector: WorkerInspector, worker: Worker) {
  // Twice: the first collection can leave objects that only a second one frees (weak references, finalizers).
  await inspector.send('HeapProfiler.collectGarbage');
  await inspector.send('HeapProfiler.collectGarbage');
  const usage = await inspector.send<{ usedSize: number; totalSize: number; backingStorageSize?: number }>(
    'Runtime.getHeapUsage',
  );
  const wasmMemory = await worker.evaluate(
    () =>
      (globalThis as { __memoryTestWasm?: WeakRef<WebAssembly.Memory> }).__memoryTestWasm?.deref()?.buffer
        .byteLength ?? null,
  );
  // Missing figures fail the test: a check that is skipped when a measurement is unavailable checks nothing.
  expect(usage.backingStorageSize, 'worker backing stores (Runtime.getHeapUsage.backingStorageSize)').toEqual(
    expect.any(Number),
  );
  expect(wasmMemory, "onnxruntime's WebAssembly memory").toEqual(expect.any(Number));
  return {
    workerHeapUsed: usage.usedSize,
    workerHeapTotal: usage.totalSize,
    workerBackingStores: usage.backingStorageSize!,
    wasmMemory: wasmMemory!,
  };
}

/**
 * The page measured twice, two frames apart, keeping the lower heap. The per-image bound divides a difference
 * by 100 images, so one transient retention at a sample point reads as a leak: one clean-clone run of 2026-12-07
 * read its 200-image sample 0.9 MiB high (10.1 KB per image; the ten runs before read 0.6–1.5 KB) and the same
 * clone's rerun read 0.7 KB. A real leak is still in the heap at the second look.
 */
async function settledPage(page: Page, images: number): Promise<PageSample> {
  const first = await measurePage(page, images);
  await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
  const second = await measurePage(page, images);
  return second.pageHeap < first.pageHeap ? second : first;
}

const MiB = (b: number | null) => (b === null ? 'n/a' : `${(b / 1024 / 1024).toFixed(2)} MiB`);

test(`memory over ${TOTAL} images: every tensor released, page heap, worker heap and wasm memory flat`, async ({
  page,
  ep,
}) => {
  test.skip(ep !== 'wasm', 'WASM only (WebGPU here is a software renderer)');
  await openApp(page, ep, '&debug=1');
  const inspector = await WorkerInspector.attach(page, 'inference.worker');
  const worker = page.workers().find((w) => w.url().includes('inference.worker'));
  expect(worker, 'inference worker').toBeDefined();
  await worker!.evaluate(watchWasmMemory);
  const pictures = [0, 1, 2, 3].map((i) => testPicture(160 + i * 16, 120 + i * 8, i));
  // The files are uploaded from disk, not as buffers: Playwright hands buffers to the page as CDP call
  // arguments, which V8's inspector compiles as script source, and V8's compilation cache keeps that source
  // (the file's base64) past gc(). The page heap then grew by each upload's base64 size (~75 KB per image
  // here) without the app holding anything. A path goes through DOM.setFileInputFiles: the browser reads the
  // file as it would one chosen in the file dialog, and nothing of it enters the page's JS heap.
  const folder = test.info().outputPath('folder');
  mkdirSync(folder, { recursive: true });
  const files = Array.from({ length: TOTAL }, (_, i) => {
    const path = resolve(folder, `m${i}.png`);
    writeFileSync(path, pictures[i % pictures.length]!);
    return path;
  });
  const samples: Sample[] = [];
  const t0 = Date.now();
  let processed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const n = Math.min(PER_ROUND, TOTAL - processed);
    await page.getByTestId('file-input').setInputFiles(files.slice(processed, processed + n));
    await expect(page.locator('[data-testid="image-card"][data-status="done"]')).toHaveCount(n);
    processed += n;
    await page.getByTestId('clear-images').click();
    await expect(page.getByTestId('image-card')).toHaveCount(0);
    if (round === 0 || round === Math.floor(ROUNDS / 2) - 1 || round === ROUNDS - 1) {
      const inPage = await settledPage(page, processed);
      samples.push({ ...inPage, ...(await measureWorker(inspector, worker!)) });
    }
  }
  const seconds = (Date.now() - t0) / 1000;

  const rows = samples.map(
    (s) =>
      `| ${s.images} | ${MiB(s.pageHeap)} | ${MiB(s.workerHeapUsed)} / ${MiB(s.workerHeapTotal)} | ${MiB(s.workerBackingStores)} | ${MiB(s.wasmMemory)} | ${s.liveTensors} / ${s.tensorsCreated} | ${MiB(s.uaWindow)} | ${MiB(s.uaWorker)} | ${MiB(s.uaTotal)} |`,
  );
  const table = [
    `Memory over ${TOTAL} images (${seconds.toFixed(0)} s, ${(seconds / TOTAL).toFixed(2)} s/image, WASM):`,
    '| images | page JS heap | worker JS heap used / total | worker backing stores | wasm memory | live / created tensors | UA: window | UA: worker | UA: total |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    `tolerance: end ≤ start + max(${MiB(TOLERANCE.bytes)}, ${TOLERANCE.fraction * 100} %)`,
  ].join('\n');
  console.log(table);
  const dir = resolve(import.meta.dirname, 'artifacts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    resolve(dir, 'memory.json'),
    JSON.stringify({ total: TOTAL, seconds, samples, TOLERANCE }, null, 2),
  );

  const [start, middle, end] = samples.length === 3 ? samples : [samples[0]!, null, samples.at(-1)!];
  const allowed = (b: number) => b + Math.max(TOLERANCE.bytes, TOLERANCE.fraction * b);
  for (const s of samples) expect(s.liveTensors, `live tensors after ${s.images} images`).toBe(0);
  expect(end!.tensorsCreated).toBeGreaterThan(start!.tensorsCreated);
  const growth = (a: Sample, b: Sample, key: 'pageHeap' | 'workerHeapUsed' | 'wasmMemory' = 'pageHeap') =>
    (b[key] - a[key]) / (b.images - a.images);
  // The per-image bound is held over the second half: in the first, V8 is still compiling optimised code for
  // functions as they get hot (heap snapshots show the growth there as mostly Code/InstructionStream objects,
  // none of it app objects), which a short run would otherwise read as a leak. A leak per image shows in
  // either half.
  const from = middle ?? start!;
  const perImage = growth(from, end!);
  console.log(
    `page JS heap growth: ${(perImage / 1024).toFixed(1)} KB per image from ${from.images} to ${end!.images} images ` +
      `(bound ${PAGE_BYTES_PER_IMAGE / 1024} KB), ${(growth(start!, end!) / 1024).toFixed(1)} KB from ${start!.images}`,
  );
  expect(end!.pageHeap, 'page JS heap').toBeLessThanOrEqual(allowed(start!.pageHeap));
  expect(perImage, 'page JS heap growth per image').toBeLessThanOrEqual(PAGE_BYTES_PER_IMAGE);
  const workerPerImage = growth(from, end!, 'workerHeapUsed');
  const wasmPerImage = growth(from, end!, 'wasmMemory');
  console.log(
    `worker JS heap growth: ${(workerPerImage / 1024).toFixed(2)} KB per image (bound ${WORKER_HEAP_BYTES_PER_IMAGE / 1024} KB); ` +
      `wasm memory growth: ${(wasmPerImage / 1024).toFixed(2)} KB per image (bound ${WASM_BYTES_PER_IMAGE / 1024} KB), ` +
      `from ${from.images} to ${end!.images} images`,
  );
  expect(workerPerImage, 'worker JS heap growth per image').toBeLessThanOrEqual(WORKER_HEAP_BYTES_PER_IMAGE);
  expect(wasmPerImage, 'wasm memory growth per image').toBeLessThanOrEqual(WASM_BYTES_PER_IMAGE);
  expect(end!.workerHeapUsed, 'worker JS heap used').toBeLessThanOrEqual(allowed(start!.workerHeapUsed));
  expect(end!.workerHeapTotal, 'worker JS heap total').toBeLessThanOrEqual(allowed(start!.workerHeapTotal));
  expect(end!.workerBackingStores, 'worker backing stores').toBeLessThanOrEqual(
    allowed(start!.workerBackingStores),
  );
  expect(end!.wasmMemory, 'wasm memory').toBeLessThanOrEqual(allowed(start!.wasmMemory));
  // The browser's breakdown is printed, not compared: it answers in time in few runs here, and a check that
  // runs only sometimes would pass unnoticed when it is skipped. The worker figures above are the checks.
  if (!start!.uaTotal || !end!.uaTotal)
    console.log('UA memory not available at the start or the end (timed out): printed where present');
});
