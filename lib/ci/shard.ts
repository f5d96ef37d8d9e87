import { HarnessError } from '../util/errors.js';

export interface Shard {
  index: number;
  count: number;
}

/** "I/N" with 1 ≤ I ≤ N, as vitest and the CI matrices write it. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new HarnessError(`--shard "${text}" is not I/N with 1 ≤ I ≤ N (e.g. 1/2)`);
  return { index, count };
}

/**
 * The scenario files of one shard: every N-th file from the I-th, in the notebook's order, so the
 * shards get early and late (short and long) cases alike. A shard with no file is refused: the
 * count cannot exceed the files.
 */
export function shardFiles(files: string[], s: Shard): string[] {
  if (s.count > files.length)
    throw new HarnessError(
      `${s.count} shards for ${files.length} scenario file(s): every shard needs at least one`,
      `use at most ${files.length} shards`,
    );
  return files.filter((_, i) => i % s.count === s.index - 1);
}
