// The CLI's commands (argv -> run, check, proxy, demo, version); main.ts loads this module.
import { readFileSync } from 'node:fs';
import type * as Commander from 'commander';
import { runCommand, checkCommand } from './run.js';
import { proxyCommand } from './proxy.js';
import { BALANCE_NAMES } from '../config/schema-upstream.js';
import { TransientPackage } from '../util/transient-require.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The argument parser: needed until the command has started, then let go. */
const commander = new TransientPackage<typeof Commander>('commander');

/** The commands, made in a function so that nothing keeps them once the chosen one has started. */
function commands(): Commander.Command {
  const { Command, Option } = commander.get();
  const program = new Command('headwater')
    .description('Headwater: reverse proxy, load balancer and API gateway for upstream servers')
    .version(pkg.version, '-V, --version', 'print the version')
    .showHelpAfterError();

  program
    .command('run')
    .description('run the gateway from a config file (SIGHUP reloads it, SIGTERM drains and stops)')
    .option('-c, --config <file>', 'YAML or JSON config file', './headwater.yaml')
    .action((o: { config: string }) => runCommand(o.config));

  program
    .command('check')
    .description('validate a config file: exit 0 when valid, 2 with every error as FILE:LINE:COL  key.path  message')
    .option('-c, --config <file>', 'YAML or JSON config file', './headwater.yaml')
    .action((o: { config: string }) => checkCommand(o.config));

  program
    .command('proxy')
    .description('a one-line reverse proxy with no config file')
    .requiredOption('-l, --listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('-t, --to <host:port>', 'an upstream server (repeat for more)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .addOption(new Option('-b, --balance <name>', 'load-balancing policy').choices(BALANCE_NAMES).default('round_robin'))
    .option('--no-access-log', 'do not write the JSON access log to stdout')
    .action((o: { listen: string; to: string[]; balance: string; accessLog: boolean }) => proxyCommand(o));

  program
    .command('demo')
    .description('start three sample origins (one flaky) and the gateway in front of them')
    .option('-l, --listen <host:port>', 'gateway address', '127.0.0.1:8080')
    .option('-n, --requests <n>', 'requests the demo sends by itself', (v: string) => Number.parseInt(v, 10), 12)
    .action(async (o: { listen: string; requests: number }) => (await import('./demo.js')).demoCommand(o));

  program
    .command('version')
    .description('print the version')
    .action(() => console.log(pkg.version));
  return program;
}

/** Parse and start; in a function of its own, as a finished module body still holds its last values. */
async function main(argv: string[]): Promise<void> {
  await commands().parseAsync(argv);
  commander.release();
}

await main(process.argv);
