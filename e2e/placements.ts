/**
 * Where onnxruntime put each graph's nodes, as the app reports it with ?debug=providers (the provider line's
 * data-placements: per graph, the provider its session was created for and the node count per execution
 * provider, with the node list when there is more than one provider).
 */
import type { Page } from '@playwright/test';
import type { NodePlacement } from '../src/lib/placements';
import { opType } from '../src/lib/placements';
import { expect } from './fixtures';

type Placements = Record<string, { provider: string; placement: NodePlacement | null }>;

/**
 * Operator types onnxruntime may run on the CPU inside a WebGPU session. ORT assigns the small int64 tensors
 * that compute shapes (Shape → Gather → Unsqueeze/Concat → Reshape, head counts divided and multiplied, the
 * Where/Equal of a dynamic reshape) to the CPU on purpose, and the WebGPU EP has no int64 kernels, so the last
 * Cast of the VQ encoder (ArgMax's int64 ids to int32, h×w values) runs there too. What was seen on TokLIP-Tiny
 * and the shallow synthetic official export, all of them in those roles. Any other operator on the CPU
 * (Conv, MatMul, Softmax, a normalisation, ArgMax…) means part of the model's real work left the GPU: it fails.
 */
export const CPU_ALLOWED_ON_WEBGPU = [
  'Gather',
  'Unsqueeze',
  'Concat',
  'Cast',
  'Mul',
  'Div',
  'Slice',
  'Reshape',
  'Equal',
  'Where',
] as const;

const CPU = 'CPUExecutionProvider';
const WEBGPU = 'WebGpuExecutionProvider';

/** Waits until every graph in `roles` has reported its placement, and returns them all. */
export async function readPlacements(page: Page, roles: readonly string[]): Promise<Placements> {
  const status = page.getByTestId('provider-status');
  let seen: Placements = {};
  await expect
    .poll(
      async () => {
        seen = JSON.parse((await status.getAttribute('data-placements')) ?? '{}') as Placements;
        return roles.filter((r) => !(r in seen));
      },
      { message: 'graphs whose node placement was not reported (?debug=providers)' },
    )
    .toEqual([]);
  return seen;
}

/**
 * On `ep`, every graph of `roles` must have been created for that provider, and its nodes placed where that
 * provider can run them: all on the CPU EP for WASM; on WebGPU, every node on the WebGPU EP except operators of
 * CPU_ALLOWED_ON_WEBGPU. Returns a one-line summary per graph (which operators ran on the CPU) for the log.
 */
export async function expectPlacedOn(page: Page, ep: string, roles: readonly string[]): Promise<string[]> {
  const all = await readPlacements(page, roles);
  const summary: string[] = [];
  for (const role of roles) {
    const { provider, placement } = all[role]!;
    expect(provider, `${role}: the provider its session was created for`).toBe(ep);
    expect(placement, `${role}: onnxruntime logged no node placement`).not.toBeNull();
    const { nodes, listed } = placement!;
    const total = Object.values(nodes).reduce((a, b) => a + b, 0);
    expect(total, `${role}: number of nodes placed`).toBeGreaterThan(0);
    if (ep === 'wasm') {
      expect(nodes, `${role}: every node on the CPU EP`).toEqual({ [CPU]: total });
      summary.push(`${role}: ${total} nodes, all on ${CPU}`);
      continue;
    }
    expect(Object.keys(nodes).sort(), `${role}: execution providers used`).toEqual(
      nodes[CPU] ? [CPU, WEBGPU] : [WEBGPU],
    );
    const cpuNodes = nodes[CPU] ? (listed[CPU] ?? []) : [];
    // the log lists each node when there is more than one provider: the list must account for every CPU node
    expect(cpuNodes.length, `${role}: CPU nodes listed`).toBe(nodes[CPU] ?? 0);
    const forbidden = cpuNodes.filter(
      (n) => !(CPU_ALLOWED_ON_WEBGPU as readonly string[]).includes(opType(n)),
    );
    expect(
      forbidden,
      `${role}: nodes that left WebGPU for the CPU (allowed: ${CPU_ALLOWED_ON_WEBGPU.join(', ')})`,
    ).toEqual([]);
    const byOp = new Map<string, number>();
    for (const n of cpuNodes) byOp.set(opType(n), (byOp.get(opType(n)) ?? 0) + 1);
    summary.push(
      `${role}: ${nodes[WEBGPU]} nodes on WebGPU, ${nodes[CPU] ?? 0} on the CPU` +
        (byOp.size ? ` (${[...byOp].map(([op, n]) => `${op}×${n}`).join(', ')})` : ''),
    );
  }
  return summary;
}
