// The rows the webview holds, by block of `blockSize` positions, least recently used evicted first. A
// million-row table never lives in the webview: only the blocks around what was recently on screen. No DOM:
// unit-tested under Node (test/unit/viewFormat.test.ts).

export class RowCache<T> {
  /** block number -> its rows; Map iteration order is the recency order (oldest first). */
  private readonly blocks = new Map<number, T[]>();

  constructor(
    readonly blockSize: number,
    readonly maxBlocks: number,
  ) {
    if (blockSize < 1 || maxBlocks < 1) throw new RangeError('a row cache needs a block size and a capacity of at least 1');
  }

  blockOf(pos: number): number {
    return Math.floor(pos / this.blockSize);
  }

  /** The row at `pos`, or undefined when its block is not held. Does not count as a use (see touch). */
  get(pos: number): T | undefined {
    const b = this.blockOf(pos);
    return this.blocks.get(b)?.[pos - b * this.blockSize];
  }

  hasBlock(block: number): boolean {
    return this.blocks.has(block);
  }

  /** Mark the blocks covering positions [from, to) as just used, so they are evicted last. */
  touch(from: number, to: number): void {
    for (let b = this.blockOf(from); b <= this.blockOf(Math.max(from, to - 1)); b++) {
      const rows = this.blocks.get(b);
      if (!rows) continue;
      this.blocks.delete(b);
      this.blocks.set(b, rows);
    }
  }

  /** Store the rows starting at `start` (a block boundary); evicts the least recently used blocks past capacity. */
  put(start: number, rows: T[]): void {
    const b = this.blockOf(start);
    this.blocks.delete(b);
    this.blocks.set(b, rows);
    while (this.blocks.size > this.maxBlocks) this.blocks.delete(this.blocks.keys().next().value as number);
  }

  clear(): void {
    this.blocks.clear();
  }

  /** Blocks held, oldest use first. */
  heldBlocks(): number[] {
    return [...this.blocks.keys()];
  }
}
