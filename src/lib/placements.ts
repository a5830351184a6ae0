/**
 * Which execution provider onnxruntime assigned each node of a session to, read from its verbose log (pure).
 *
 * onnxruntime-web 1.30 has no API for the assignment, and its profiler writes to a file in the wasm module's
 * own file system that the JS side frees unread. With a session's log severity at VERBOSE, though, the session
 * logs after partitioning one line per provider — " All nodes placed on [EP]. Number of nodes: N" when there is
 * one, else " Node(s) placed on [EP]. Number of nodes: N" followed by one "  OpType (node name)" line per node.
 * Every line carries the session's `logId` ("[V:onnxruntime:<logId>, file.cc:123 Function]"), which tells the
 * sessions apart.
 */

export interface NodePlacement {
  /** nodes per execution provider, e.g. { WebGpuExecutionProvider: 40, CPUExecutionProvider: 3 } */
  nodes: Record<string, number>;
  /** the nodes placed on each provider, "OpType (node name)", when the log lists them (more than one provider) */
  listed: Record<string, string[]>;
}

/** ORT's default log sink: "<time> [V:onnxruntime:<logId>, <file>:<line> <function>] <message>". */
const LINE = /\[([VIWEF]):onnxruntime:([^,\]]*),[^\]]*\]\s?(.*)$/;
const ALL = /^\s*All nodes placed on \[([^\]]+)\]\. Number of nodes: (\d+)/;
const SOME = /^\s*Node\(s\) placed on \[([^\]]+)\]\. Number of nodes: (\d+)/;
const NODE = /^ {2}(\S.*)$/;

/** Lines of ORT's log that belong to the session logged as `logId`, as {severity, message}. */
export function sessionLines(
  lines: readonly string[],
  logId: string,
): { severity: string; message: string }[] {
  const out: { severity: string; message: string }[] = [];
  for (const l of lines) {
    const m = LINE.exec(l);
    if (m && m[2] === logId) out.push({ severity: m[1]!, message: m[3]! });
  }
  return out;
}

/**
 * The placement logged for `logId`, or null when its log has no placement summary (logging not verbose, or
 * another format): a caller must treat null as "unknown", never as "all on the requested provider".
 */
export function parsePlacement(lines: readonly string[], logId: string): NodePlacement | null {
  const nodes: Record<string, number> = {};
  const listed: Record<string, string[]> = {};
  let current: string | null = null;
  let found = false;
  for (const { message } of sessionLines(lines, logId)) {
    const all = ALL.exec(message);
    const some = SOME.exec(message);
    if (all || some) {
      const [, ep, n] = (all ?? some)!;
      nodes[ep!] = (nodes[ep!] ?? 0) + Number(n);
      current = some ? ep! : null;
      if (current) listed[current] ??= [];
      found = true;
      continue;
    }
    const node = current ? NODE.exec(message) : null;
    if (node && current) listed[current]!.push(node[1]!.trim());
    else current = null;
  }
  return found ? { nodes, listed } : null;
}

/** "OpType (node name)" → "OpType". */
export function opType(node: string): string {
  return node.split(' ', 1)[0]!;
}
