// The two lines that wrap a Trainer's compute_metrics with the Python package's capture (src/python/evalpred/
// capture.py), for the palette command EvalPred: Copy Trainer Capture Snippet. No `vscode` import: the unit
// test runs these exact lines in Python against the real package.

/** The folder capture writes, relative to the training script's working directory. */
export const CAPTURE_DIR = 'evalpred-dump';

export const CAPTURE_SNIPPET = `from evalpred import capture
trainer = Trainer(..., compute_metrics=capture(compute_metrics, "${CAPTURE_DIR}"))
`;

export const CAPTURE_COPIED_MESSAGE =
  `EvalPred: copied the capture snippet. On the training machine \`pip install\` the evalpred wheel (NumPy is its only ` +
  `dependency), evaluate, then bring the ${CAPTURE_DIR} folder here and import it.`;
