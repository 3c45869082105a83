import { Command } from 'commander';
import { isTricenterError, errorMessage } from '#shared/platform/errors.ts';
import * as appCommands from './commands/app.ts';
import * as clustersCommands from './commands/clusters.ts';
import * as localCommands from './commands/local.ts';
import * as renderCommands from './commands/render.ts';
import * as sandboxCommands from './commands/sandbox.ts';
import * as setupCommands from './commands/setup.ts';
import * as trafficCommands from './commands/traffic.ts';
import { terminalSafe, terminalSafeLines } from './terminal-text.ts';

/**
 * The `tricenter` command. Each area registers its subcommands from `cli/commands/<area>.ts`.
 * Errors end the process with one clear line on stderr (control characters escaped) and a non-zero exit; stack traces only
 * with TRICENTER_DEBUG=1.
 */
const program = new Command('tricenter')
  .description('Deliver one application to three centers in two places, on Alibaba Cloud or on the local twin.')
  .showHelpAfterError()
  .configureOutput({ outputError: (str, write) => write(terminalSafeLines(str)) });

const areas: Array<{ register(program: Command): void }> = [
  renderCommands,
  sandboxCommands,
  appCommands,
  localCommands,
  setupCommands,
  trafficCommands,
  clustersCommands,
];
for (const area of areas) area.register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (process.env.TRICENTER_DEBUG === '1' && err instanceof Error) console.error(err.stack);
  const prefix = isTricenterError(err) ? '' : 'error: ';
  // Messages carry names from bundles and the server: one escaped line, never a forged one.
  console.error(terminalSafe(`${prefix}${errorMessage(err)}`));
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
}
