#!/usr/bin/env node
/**
 * node bench/render.mjs bench/results/<run>.json|.md — writes <run>.svg (and, from .json, <run>.md) again from a
 * saved run. Reports from before the bench saved JSON are read back from their Markdown table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { benchMarkdown, benchSvg, hasChartRows, parseBenchMarkdown } from './report.mjs';

for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  const base = file.replace(/\.(json|md)$/, '');
  const data = file.endsWith('.json') ? JSON.parse(text) : parseBenchMarkdown(text);
  if (file.endsWith('.json')) writeFileSync(`${base}.md`, benchMarkdown(data));
  if (!hasChartRows(data)) {
    console.log(`${file}: no browser WASM or native rows to chart`);
    continue;
  }
  writeFileSync(`${base}.svg`, benchSvg(data));
  console.log(`wrote ${base}.svg`);
}
