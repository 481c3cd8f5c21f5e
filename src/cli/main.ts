// The `evalpred` command (README "Command line"). Errors from bad input print one paragraph and exit 2;
// anything else is an internal error with its stack, exit 70.
import { isEvalpredError } from '../core/errors';
import { toolVersion } from '../core/evaluate';
import { HelpRequested } from './args';
import { printable } from './terminalText';
import { CancelledError } from '../core/loop/types';
import { compareCommand } from './commands/compare';
import { demoCommand } from './commands/demo';
import { importCommand } from './commands/import';
import { inspectCommand } from './commands/inspect';
import { metricsCommand } from './commands/metrics';
import { runCommand } from './commands/run';

const HELP = `evalpred — run Trainer's evaluation loop on an ONNX model, cache the EvalPrediction, rerun compute_metrics

  evalpred run --model DIR --dataset FILE_OR_DIR [--out CACHE_DIR] [--batch-size N] [--max-length N]
               [--text-column C [--text-pair-column C2] | --text-template '...'] [--label-column C]
               [--include-for-metrics inputs,loss] [--preprocess argmax] [--metrics FILE [--function NAME]]
  evalpred metrics --cache CACHE_DIR --metrics FILE [--function NAME] [--watch]
  evalpred inspect --cache CACHE_DIR [--json]
  evalpred compare CACHE_A CACHE_B [--metrics FILE] [--out changed.jsonl] [--json]
  evalpred import DUMP --out CACHE_DIR
  evalpred demo [--dir DIR]
  evalpred --version

Run a command with --help for its flags (evalpred run --help).`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  run: runCommand,
  metrics: metricsCommand,
  inspect: inspectCommand,
  compare: compareCommand,
  import: importCommand,
  demo: demoCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP + '\n');
    return cmd ? 0 : 1;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`evalpred ${toolVersion()}\n`);
    return 0;
  }
  const fn = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!fn) {
    process.stderr.write(`evalpred: error: unknown command ${JSON.stringify(printable(cmd))}. Commands: ${Object.keys(COMMANDS).join(', ')} (evalpred --help).\n`);
    return 2;
  }
  try {
    return await fn(rest);
  } catch (e) {
    if (e instanceof HelpRequested) {
      process.stdout.write(e.text + '\n');
      return 0;
    }
    if (e instanceof CancelledError) {
      process.stderr.write('evalpred: cancelled; nothing was written to the cache.\n');
      return 130;
    }
    if (isEvalpredError(e)) {
      // One prefix: messages written for other shells may start with their own "evalpred <cmd>:".
      const message = e.message.replace(new RegExp(`^(evalpred( ${cmd})?: (error: )?)+`), '');
      process.stderr.write(`evalpred ${cmd}: error: ${printable(message)}\n`);
      return 2;
    }
    process.stderr.write(`evalpred ${cmd}: internal error (please report it): ${e instanceof Error ? e.stack : String(e)}\n`);
    return 70;
  }
}

/**
 * Warnings raised in the CLI's process (the metric library's UndefinedMetricWarning, as sklearn raises it) print
 * like the CLI's own warnings: one line, without Node's "(node:PID)" prefix and its --trace-warnings hint.
 */
function printWarningsAsOurs(): void {
  process.removeAllListeners('warning');
  process.on('warning', (w) => process.stderr.write(`warning: ${printable(`${w.name}: ${w.message}`)}\n`));
}

if (require.main === module) {
  printWarningsAsOurs();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(String(e) + '\n');
      process.exitCode = 70;
    },
  );
}
