/**
 * Pure builders for the bench report (no I/O, so Vitest can check them): onnxruntime profile → per-op-type table,
 * bench figures → Markdown and an SVG bar chart, and a reader for the tables older runs saved as Markdown only.
 */

// ---- onnxruntime profile ----------------------------------------------------------------------------

/**
 * Node events from onnxruntime's profiler output: either the file's text (a JSON array, native) or the lines the
 * web build prints through console.log (one event per line, with a trailing comma). Kernel times only: each
 * node's `<name>_kernel_time` event is its wall time on the session's thread, intra-op threads included.
 */
export function parseOrtProfile(textOrLines) {
  const lines = Array.isArray(textOrLines) ? textOrLines : String(textOrLines).split('\n');
  const events = [];
  for (const raw of lines) {
    const line = raw.trim().replace(/,$/, '');
    if (!line.startsWith('{') || !line.includes('"cat"')) continue;
    let e;
    try {
      e = JSON.parse(line);
    } catch {
      continue; // a line the console split or another log line that happens to start with '{'
    }
    if (e.cat !== 'Node' || !String(e.name).endsWith('_kernel_time')) continue;
    events.push({
      node: e.name.slice(0, -'_kernel_time'.length),
      op: e.args?.op_name ?? '?',
      us: Number(e.dur),
    });
  }
  return events;
}

/**
 * Per-op-type totals over `runs` profiled runs: ms per run, share of the kernel total, node count per run,
 * biggest first; the rest beyond `top` summed into one row.
 */
export function opTable(events, runs, top = 10) {
  const by = new Map();
  for (const e of events) {
    const r = by.get(e.op) ?? { op: e.op, us: 0, calls: 0 };
    r.us += e.us;
    r.calls += 1;
    by.set(e.op, r);
  }
  const total = events.reduce((a, e) => a + e.us, 0);
  const rows = [...by.values()]
    .sort((a, b) => b.us - a.us || a.op.localeCompare(b.op))
    .map((r) => ({
      op: r.op,
      ms: r.us / 1000 / runs,
      pct: total ? (100 * r.us) / total : 0,
      nodes: r.calls / runs,
    }));
  const head = rows.slice(0, top);
  const rest = rows.slice(top);
  if (rest.length)
    head.push({
      op: `${rest.length} other op types`,
      ms: rest.reduce((a, r) => a + r.ms, 0),
      pct: rest.reduce((a, r) => a + r.pct, 0),
      nodes: rest.reduce((a, r) => a + r.nodes, 0),
    });
  return { rows: head, totalMs: total / 1000 / runs };
}

/** Side-by-side Markdown of per-op tables (e.g. browser WASM and onnxruntime-node for one stage). */
export function opTablesMarkdown(stage, tables) {
  const lines = [
    `**${stage}** — kernel time per run by op type (ms, % of that runtime's kernel total, nodes)`,
    '',
  ];
  lines.push('| ' + tables.map((t) => `${t.label} | ms | % | nodes`).join(' | ') + ' |');
  lines.push('| ' + tables.map(() => '--- | ---: | ---: | ---:').join(' | ') + ' |');
  const n = Math.max(...tables.map((t) => t.rows.length));
  for (let i = 0; i < n; i++)
    lines.push(
      '| ' +
        tables
          .map((t) => {
            const r = t.rows[i];
            return r ? `${r.op} | ${fmtMs(r.ms)} | ${r.pct.toFixed(1)} | ${+r.nodes.toFixed(1)}` : ' | | | ';
          })
          .join(' | ') +
        ' |',
    );
  lines.push('| ' + tables.map((t) => `**kernel total** | ${fmtMs(t.totalMs)} | 100 | `).join(' | ') + ' |');
  return lines.join('\n') + '\n';
}

export const fmtMs = (x) =>
  x === undefined || x === null || Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1);

// ---- bench table --------------------------------------------------------------------------------------

/** The reference row the ratios are taken to: onnxruntime-node (or its Python stand-in), row (c). */
export const nativeRow = (data) =>
  data.runtimes.find((r) => r.key === 'native' || /^\(c\)/.test(r.label)) ?? null;

const cellRatio = (data, r, stage) => {
  const n = nativeRow(data)?.stages[stage];
  const v = r.stages[stage];
  return v && n ? v.median / n.median : undefined;
};

/** The bench's Markdown report from its raw figures (the JSON bench/run.mjs saves next to it). */
export function benchMarkdown(data) {
  const lines = [];
  lines.push(`# Bench: ${data.displayName} (${data.model}) — ${data.started}`, '');
  lines.push(data.machine.lines, '');
  lines.push(
    `Per stage: median / p90 of ${data.runs} runs after ${data.warmup} warm-up runs (WebGPU: ${data.webgpuRuns} after 1), ms, batch 1, ` +
      'wall time of session.run plus reading the output back (browser: inside the app’s worker). ' +
      'Ratio = median / median of (c). GFLOP/s = counted FLOPs of the stage / median.',
    '',
  );
  const flops = data.flops ?? {};
  lines.push(
    '| runtime | ' + data.stages.map((s) => `${s} ms (×c, GFLOP/s)`).join(' | ') + ' |',
    '| --- | ' + data.stages.map(() => '---').join(' | ') + ' |',
  );
  for (const r of data.runtimes) {
    const cells = data.stages.map((s) => {
      const v = r.stages[s];
      if (!v) return '—';
      const ratio = cellRatio(data, r, s);
      const gf = flops[s] ? flops[s] / 1e9 / (v.median / 1000) : undefined;
      return `${fmtMs(v.median)} / ${fmtMs(v.p90)} (${ratio === undefined ? '—' : ratio.toFixed(2) + '×'}, ${gf === undefined ? '—' : gf.toFixed(1)})`;
    });
    lines.push(`| ${r.label} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push(
    'FLOPs per stage (torch.utils.flop_counter, multiply-add = 2): ' +
      data.stages.map((s) => `${s} ${flops[s] ? (flops[s] / 1e9).toFixed(3) + ' GFLOP' : 'n/a'}`).join(', '),
  );
  lines.push(
    'Model bytes per dtype (graphs with their external data + codebook as listed in the manifest): ' +
      Object.entries(data.modelBytes ?? {})
        .map(([d, b]) => `${d} ${(b / 2 ** 20).toFixed(2)} MiB`)
        .join(', '),
  );
  const notes = data.notes ?? [];
  lines.push(...notes.filter((n) => !n.startsWith('Rows not run')));
  const short = (r) => r.label.replace(/^\(b\) /, '');
  const drops = data.runtimes.filter((r) => r.drop);
  if (drops.length)
    lines.push(
      'Drop to all panels (the app, one sample photo at a time, median / p90 ms; target < 1000 ms for TokLIP-Tiny): ' +
        drops.map((r) => `${short(r)}: ${fmtMs(r.drop.median)} / ${fmtMs(r.drop.p90)}`).join('; '),
    );
  // older result files have no worker split
  const labWorker = (w) =>
    w
      ? ` (in the worker, medians: decode ${fmtMs(w.decode.median)}, TokLIP ${fmtMs(w.embed.median)}` +
        `${w.teacher.n ? `, teacher ${fmtMs(w.teacher.median)}` : ''}, total ${fmtMs(w.total.median)})`
      : '';
  const labs = data.runtimes.filter((r) => r.lab);
  if (labs.length)
    lines.push(
      'Lab edit → both panels (token lab: a 4×4 block set to a code / reset; decode + TokLIP + teacher on the ' +
        're-decoded pixels in one worker request, until the picture and scores for the edited ids are painted; ' +
        'median / p90 ms; target < 300 ms for TokLIP-Tiny): ' +
        labs
          .map((r) => `${short(r)}: ${fmtMs(r.lab.median)} / ${fmtMs(r.lab.p90)}${labWorker(r.lab.worker)}`)
          .join('; '),
    );
  lines.push(...notes.filter((n) => n.startsWith('Rows not run')));
  lines.push(
    'Notes: the WebGPU row uses whatever adapter this Chromium has; with SwiftShader it is a CPU emulation of a GPU ' +
      'and says nothing about WebGPU on real hardware. Other processes on this machine (e.g. a training run) inflate ' +
      'every number; compare rows of one run only.',
  );
  if (data.profile) lines.push('', profileMarkdown(data));
  return lines.join('\n') + '\n';
}

/** The per-op profile section: one side-by-side table per stage. */
export function profileMarkdown(data) {
  const p = data.profile;
  const md = [
    `## Where the time goes (onnxruntime profiler, ${p.runs} runs per stage after ${p.warmup} warm-up, kernel time ` +
      'by op type, top 10; profiled sessions are separate from the timed rows above; browser WASM in Chromium ' +
      `${p.chromium} with the app’s session options)`,
    '',
  ];
  for (const s of data.stages) if (p.tables[s]) md.push(opTablesMarkdown(s, p.tables[s]));
  return md.join('\n');
}

export const hasChartRows = (data) =>
  data.runtimes.some((r) => ['wasm1', 'wasmN', 'native'].includes(r.key) && Object.keys(r.stages).length);

/**
 * Figures back from a saved Markdown report (runs before the bench saved JSON): title, machine lines, and for each
 * runtime row the median / p90 per stage. GFLOP/s and ratios are recomputed from these, not read.
 */
export function parseBenchMarkdown(md) {
  const lines = md.split('\n');
  const title = /^# Bench: (.*) \(([^()]*)\) — (\S+)$/.exec(lines[0] ?? '');
  if (!title)
    throw new Error('not a bench report: the first line is not "# Bench: <name> (<model>) — <date>"');
  const header = lines.findIndex((l) => l.startsWith('| runtime |'));
  if (header < 0) throw new Error('no "| runtime |" table in the report');
  const stages = lines[header]
    .split('|')
    .slice(2, -1)
    .map((c) => c.trim().replace(/ ms \(.*$/, ''));
  const runtimes = [];
  for (let i = header + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = lines[i]
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    const label = cells[0];
    const r = { key: runtimeKey(label), label, stages: {} };
    stages.forEach((s, k) => {
      const m = /^([\d.]+) \/ ([\d.]+)/.exec(cells[k + 1] ?? '');
      if (m) r.stages[s] = { median: Number(m[1]), p90: Number(m[2]) };
    });
    runtimes.push(r);
  }
  const cpu = /^- CPU: (.*) × (\d+) logical cores/m.exec(md);
  const per = /median \/ p90 of (\d+) runs after (\d+) warm-up runs \(WebGPU: (\d+)/.exec(md);
  return {
    model: title[2],
    displayName: title[1],
    started: title[3],
    machine: {
      cpu: cpu?.[1] ?? 'unknown',
      cores: cpu ? Number(cpu[2]) : undefined,
      lines: lines.filter((l) => /^- (CPU|OS|Node)/.test(l)).join('\n'),
    },
    runs: per ? Number(per[1]) : undefined,
    warmup: per ? Number(per[2]) : undefined,
    webgpuRuns: per ? Number(per[3]) : undefined,
    stages,
    runtimes,
  };
}

function runtimeKey(label) {
  if (/^\(a\)/.test(label)) return 'webgpu';
  if (/^\(b\)/.test(label)) return /\b1 thread\b/.test(label) ? 'wasm1' : 'wasmN';
  if (/^\(c\)/.test(label)) return 'native';
  if (/^\(d\)/.test(label)) return 'torch';
  return 'other';
}

// ---- SVG chart ----------------------------------------------------------------------------------------

const esc = (s) =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );

/** A short legend name for a runtime row: "browser WASM, 2 threads", "onnxruntime-node, 2 threads". */
export function shortLabel(r) {
  const threads = /(\d+) threads?/.exec(r.label)?.[1];
  const t = threads ? `, ${threads} thread${threads === '1' ? '' : 's'}` : '';
  if (r.key === 'wasm1' || r.key === 'wasmN') return `browser WASM${t}`;
  if (r.key === 'native')
    return `${/Python onnxruntime/.test(r.label) ? 'Python onnxruntime' : 'onnxruntime-node'}${t}`;
  if (r.key === 'webgpu') return 'browser WebGPU';
  if (r.key === 'torch') return `PyTorch${t}`;
  return r.label;
}

/** Log-scale ticks 1-2-5 per decade covering [lo, hi]. */
export function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(Number(v.toPrecision(1)));
    }
  return ticks;
}

const PALETTE = ['#9ecae1', '#3182bd', '#e6550d', '#31a354', '#756bb1'];

/**
 * Grouped bar chart, one group per stage, one bar per runtime (browser WASM rows and the native reference only:
 * the SwiftShader WebGPU row would say nothing about GPUs), median ms on a log scale (the stages span 1–3 decades),
 * each bar labelled with its ms and, for browser rows, its ratio to native.
 */
export function benchSvg(data, { width = 760, height = 420 } = {}) {
  const rows = data.runtimes.filter((r) => ['wasm1', 'wasmN', 'native'].includes(r.key));
  const native = nativeRow(data);
  const vals = rows.flatMap((r) => data.stages.map((s) => r.stages[s]?.median).filter((v) => v > 0));
  if (!vals.length) throw new Error('no browser WASM or native figures to chart');
  const lo = 10 ** Math.floor(Math.log10(Math.min(...vals)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...vals) * 1.5));
  const m = { left: 64, right: 16, top: 64, bottom: 78 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const y = (v) => m.top + ph - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
  const group = pw / data.stages.length;
  const bw = Math.min(44, (group * 0.8) / rows.length);
  const date = String(data.started).slice(0, 10);
  const machine = `${data.machine.cpu}${data.machine.cores ? ` × ${data.machine.cores} cores` : ''}`;
  const o = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="system-ui, sans-serif" font-size="12" role="img" aria-labelledby="t">`,
  );
  o.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  o.push(
    `<text id="t" x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="600">` +
      `${esc(data.displayName)}: browser WASM vs onnxruntime-node per stage</text>`,
  );
  o.push(
    `<text x="${width / 2}" y="40" text-anchor="middle" fill="#555">${esc(date)}, ${esc(machine)}; median of ` +
      `${data.runs ?? '?'} runs, lower is better, log scale; ×N = ratio to native</text>`,
  );
  for (const t of logTicks(lo, hi)) {
    const ty = y(t).toFixed(1);
    o.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${ty}" y2="${ty}" stroke="#e5e5e5"/>`);
    o.push(`<text x="${m.left - 6}" y="${ty}" dy="4" text-anchor="end" fill="#333">${t}</text>`);
  }
  o.push(
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">` +
      'latency per run (ms, log scale)</text>',
  );
  data.stages.forEach((s, i) => {
    const gx = m.left + i * group + (group - bw * rows.length) / 2;
    rows.forEach((r, k) => {
      const v = r.stages[s]?.median;
      if (!(v > 0)) return;
      const x = gx + k * bw;
      const top = y(v);
      const ratio = r !== native && native?.stages[s] ? v / native.stages[s].median : undefined;
      o.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(bw - 2).toFixed(1)}" ` +
          `height="${(m.top + ph - top).toFixed(1)}" fill="${PALETTE[k % PALETTE.length]}">` +
          `<title>${esc(shortLabel(r))}, ${esc(s)}: ${fmtMs(v)} ms</title></rect>`,
      );
      const cx = (x + (bw - 2) / 2).toFixed(1);
      o.push(
        `<text x="${cx}" y="${(top - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmtMs(v)}</text>`,
      );
      if (ratio !== undefined)
        o.push(
          `<text x="${cx}" y="${(top - 15).toFixed(1)}" text-anchor="middle" font-size="10" fill="#a33">` +
            `×${ratio.toFixed(1)}</text>`,
        );
    });
    o.push(
      `<text x="${(m.left + (i + 0.5) * group).toFixed(1)}" y="${m.top + ph + 18}" text-anchor="middle" ` +
        `fill="#333">${esc(s)}</text>`,
    );
  });
  o.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#333"/>`);
  o.push(
    `<line x1="${m.left}" x2="${width - m.right}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#333"/>`,
  );
  let lx = m.left;
  const ly = height - 22;
  rows.forEach((r, k) => {
    const name = shortLabel(r);
    o.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${PALETTE[k % PALETTE.length]}"/>`);
    o.push(`<text x="${lx + 16}" y="${ly}">${esc(name)}</text>`);
    lx += 28 + name.length * 6.5;
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}
