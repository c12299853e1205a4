import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/passwords.js';
import { USER_NAME, USER_NAME_RULE } from '../auth/users.js';
import { ROLES, type Role } from '../model/role.js';

interface PasswdOptions {
  role: string;
  stdin?: boolean;
}

class UsageError extends Error {}

export function passwdCommand(): Command {
  return new Command('passwd')
    .description('hash a password for a login, and print the lines to paste under auth_users:')
    .argument('[user]', `the user name: ${USER_NAME_RULE} (default: your own)`)
    .option('--role <role>', `${ROLES.join(' or ')}: viewer reads, admin also writes`, 'viewer')
    .option('--stdin', 'read the password from the first line of stdin, for scripts')
    .addHelpText(
      'after',
      `
The password is asked twice and not shown. It needs at least ${MIN_PASSWORD_LENGTH} characters.

Examples:
  $ hbd passwd alice --role admin
  Password:
  Again:
    alice: {password: "scrypt$15$8$1$…", role: admin}
  $ printf '%s\\n' "$PASSWORD" | hbd passwd ci --stdin`,
    )
    .action((user: string | undefined, options: PasswdOptions) => passwd(user, options));
}

async function passwd(givenUser: string | undefined, options: PasswdOptions): Promise<void> {
  try {
    const user = givenUser ?? userInfo().username.toLowerCase();
    if (!USER_NAME.test(user)) throw new UsageError(`user name "${user}": expected ${USER_NAME_RULE}`);
    if (!(ROLES as readonly string[]).includes(options.role)) {
      throw new UsageError(`--role: expected ${ROLES.join(' or ')}, got "${options.role}"`);
    }
    const password = options.stdin ? checked(await passwordFromStdin()) : await passwordFromTerminal();
    const hash = await hashPassword(password);
    // yaml quotes a name that would otherwise read as a number, null or true.
    const key = stringify(user).trimEnd();
    process.stdout.write(`  ${key}: {password: "${hash}", role: ${options.role as Role}}\n`);
    if (!options.stdin) {
      process.stderr.write('Paste that line under auth_users: in the config, then reload hbd.\n');
    }
  } catch (error) {
    process.stderr.write(`hbd: passwd: ${(error as Error).message}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}

function checked(password: string): string {
  if ([...password].length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  return password;
}

async function passwordFromStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const [line] = text.split(/\r?\n/);
  if (!line) throw new UsageError('--stdin: expected the password on the first line of stdin');
  return line;
}

/** Asks twice, without echo: a typo in a password nobody can see would lock its owner out. */
async function passwordFromTerminal(): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new UsageError('no terminal to ask for the password: pipe it in with --stdin');
  }
  // readline does the line editing (backspace, Ctrl-U) and echoes into this sink instead of the screen.
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const terminal = createInterface({ input: process.stdin, output: silent, terminal: true });
  terminal.on('SIGINT', () => {
    terminal.close();
    process.stderr.write('\n');
    process.exit(130);
  });
  const lines = terminal[Symbol.asyncIterator]();
  const ask = async (prompt: string) => {
    process.stderr.write(prompt);
    const line = await lines.next();
    process.stderr.write('\n');
    if (line.done) throw new UsageError('no password given');
    return line.value as string;
  };
  try {
    // Checked before asking again, so a refused password is not typed twice.
    const first = checked(await ask('Password: '));
    if ((await ask('Again: ')) !== first)
      throw new UsageError('the two passwords differ; nothing was printed');
    return first;
  } finally {
    terminal.close();
  }
}
