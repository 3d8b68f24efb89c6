/**
 * `npm run stack -- up|down|status [--json]`
 *
 *   up      starts the local PostgreSQL (127.0.0.1:LOCAL_PG_PORT, 55432) and Temporal dev server
 *           (127.0.0.1:LOCAL_TEMPORAL_PORT, 7233; UI on LOCAL_TEMPORAL_UI_PORT, 8233) in the background,
 *           creates the databases, applies the source and destination DDL and the staging migrations.
 *           Idempotent. Components that the configuration points elsewhere are reported as external
 *           and left alone. A port held by something else: one line naming it, exit 1.
 *   down    stops both (the data stays).
 *   status  each component and where its files are; exit code 0 when every component is up (or
 *           external), 3 otherwise.
 *   --json  print the status as JSON instead (after up/down too).
 *
 * `npm run stack` runs this through scripts/stack.sh, which sets up and builds first.
 */
import { formatStatus, stackDown, stackStatus, stackUp, StackStatus } from './local-stack';

const USAGE = 'usage: npm run stack -- up|down|status [--json]';

function allUp(status: StackStatus): boolean {
  return status.postgres.state !== 'down' && status.temporal.state !== 'down';
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const commands = argv.filter((a) => !a.startsWith('-'));
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (commands.length !== 1 || !['up', 'down', 'status'].includes(commands[0])) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  // With --json only the JSON goes to stdout; progress lines go to stderr.
  const log = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  let status: StackStatus;
  switch (commands[0]) {
    case 'up':
      status = await stackUp(log);
      break;
    case 'down':
      status = await stackDown(log);
      break;
    default:
      status = await stackStatus();
  }
  if (json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  else if (commands[0] !== 'down') process.stdout.write(`${formatStatus(status)}\n`);
  if (commands[0] === 'down') return 0;
  return allUp(status) ? 0 : 3;
}

// process.exit, not process.exitCode: an exit code must survive any library's exit hooks.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
