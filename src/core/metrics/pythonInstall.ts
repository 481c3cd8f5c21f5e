// What to tell a user whose metric interpreter lacks a module: the interpreter that ran (so a system Python
// picked by mistake is visible), the install line for exactly that interpreter (`python -m pip`, and `conda
// install -p PREFIX` when it is a conda environment), and how to pick another one (README "Which Python
// runs your metric"), and another interpreter on this machine that has the module, when there is one.

/** Import names whose package on PyPI / conda-forge is named otherwise. */
const PACKAGE_OF_MODULE: Record<string, { pip: string; conda: string }> = {
  sklearn: { pip: 'scikit-learn', conda: 'scikit-learn' },
  skimage: { pip: 'scikit-image', conda: 'scikit-image' },
  cv2: { pip: 'opencv-python', conda: 'opencv' },
  PIL: { pip: 'Pillow', conda: 'pillow' },
  yaml: { pip: 'PyYAML', conda: 'pyyaml' },
  bs4: { pip: 'beautifulsoup4', conda: 'beautifulsoup4' },
  rouge_score: { pip: 'rouge-score', conda: 'rouge-score' },
  Levenshtein: { pip: 'levenshtein', conda: 'levenshtein' },
};

/** How to choose the interpreter, in CLI words (the debug adapter rewrites --python to "python": inLaunchTerms). */
export const CHOOSE_INTERPRETER =
  'or choose an interpreter that has it: --python (or EVALPRED_PYTHON), the interpreter selected in the Python extension, or the setting evalpred.pythonPath';

function quoteArg(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

/** `python -m pip install PKG` (and `conda install -p PREFIX PKG` in a conda environment) for `module`. */
export function installLines(module: string, python: string, condaPrefix?: string | null): string {
  const pkg = PACKAGE_OF_MODULE[module] ?? { pip: module, conda: module };
  const pip = `\`${quoteArg(python)} -m pip install ${pkg.pip}\``;
  return condaPrefix ? `\`conda install -p ${quoteArg(condaPrefix)} ${pkg.conda}\` (a conda environment) or ${pip}` : pip;
}

/** The sentence naming another interpreter found with what the one that ran lacks (pythonInterpreters.ts). */
export function foundElsewhere(what: string, other: string | undefined): string {
  return other ? ` On this machine ${other} has ${what}: --python ${quoteArg(other)}.` : '';
}

/** The hint after "No module named 'x'" from a metric run; `other`: an interpreter found with NumPy and the module. */
export function missingModuleHint(module: string, python: string, condaPrefix?: string | null, other?: string): string {
  return (
    `the metric ran in ${python}, which has no module '${module}'. Install it into that interpreter: ` +
    `${installLines(module, python, condaPrefix)}; ${CHOOSE_INTERPRETER}.${foundElsewhere('it (and NumPy)', other)}`
  );
}
