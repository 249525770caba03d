import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The placeholders of test/fixtures/backtraces-api.txt, replaced by live values before a command runs. */
export const SEED = {
  host: 'https://api.xvid.com',
  token: 'um9VmyJKTPGFqpkL_THjGE5rkXqfURDYqQ8MTBVidG3PtwkfABIdx6s_z9WlFl4_j',
  pipelineId: '552b87a814eab3a29d1b3d90',
  jobId: '56f023dee4b00c798948107a',
  backtraceId: '54761380e4b0fc918f8b8b13',
  inputName: 'uploads/QOSifPpTys1wcnEli3aXo50nyj2JROdO/movie.mp4',
};

/** The curl commands of test/fixtures/backtraces-api.txt (the Backtrace API document), as printed. */
export function seedCurlCommands(): string[] {
  const lines = readFileSync(
    new URL('../fixtures/backtraces-api.txt', import.meta.url),
    'utf8',
  ).split('\n');
  const commands: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('curl ')) continue;
    const command = [lines[i]];
    while (command[command.length - 1].endsWith('\\')) command.push(lines[++i]);
    commands.push(command.join('\n'));
  }
  return commands;
}

/** Runs one of its curl commands through the shell with real curl, placeholders replaced. */
export async function runSeedCurl(
  command: string,
  values: Partial<Record<keyof typeof SEED, string>>,
): Promise<{ status: number; body: string; contentType: string }> {
  let live = command;
  for (const [key, value] of Object.entries(values)) {
    live = live.split(SEED[key as keyof typeof SEED]).join(value);
  }
  const { stdout } = await run('bash', ['-c', `${live} -s -w '\\n%{http_code} %{content_type}'`]);
  const cut = stdout.lastIndexOf('\n');
  const [status, ...contentType] = stdout.slice(cut + 1).split(' ');
  return { status: Number(status), body: stdout.slice(0, cut), contentType: contentType.join(' ') };
}
