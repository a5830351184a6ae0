/**
 * Newest sequence number per slot, for dropping superseded work: a run is superseded once a run with a higher
 * seq for its slot has been announced. Announcing happens when a request arrives (before it waits in a queue),
 * so every older request still waiting can tell, when its turn comes, that it need not run.
 */
export class LatestBySlot {
  private readonly latest = new Map<string, number>();

  /** Records that run `seq` of `slot` exists; an older seq arriving late does not lower the newest. */
  note(slot: string, seq: number): void {
    this.latest.set(slot, Math.max(this.latest.get(slot) ?? -Infinity, seq));
  }

  isSuperseded(slot: string, seq: number): boolean {
    return (this.latest.get(slot) ?? -Infinity) > seq;
  }
}
