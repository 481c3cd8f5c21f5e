// Word-level differences between two texts (a prediction and its label, or two runs' predictions): the words
// of one text that are not in the longest common subsequence with the other. No DOM: unit-tested under Node
// (test/unit/viewFormat.test.ts); the views wrap the flagged words in <mark>.

export function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** Words of `a` not in the longest common subsequence with `b` (the words that differ), as flags. */
export function diffWords(a: string[], b: string[]): boolean[] {
  const n = a.length;
  const m = b.length;
  // Past 250,000 cells the table costs more than a view can spend; compare position by position instead.
  if (n * m > 250_000) return a.map((w, i) => w !== b[i]);
  const dp: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const differs = new Array<boolean>(n).fill(true);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      differs[i] = false;
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) i++;
    else j++;
  }
  return differs;
}
