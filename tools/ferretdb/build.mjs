// Builds the embedded database (FerretDB on SQLite, see main.go) into bin/ferretdb with Go from
// the Go module proxy. Run by `npm ci` (prepare) and `npm start` (prestart); quick when up to
// date. Without Go it says what to do and exits 0, so installs that use MONGODB_URI still work.
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const binary = join(here, 'bin', 'ferretdb');
const sources = ['main.go', 'go.mod', 'go.sum'].map((name) => join(here, name));

const upToDate =
  existsSync(binary) &&
  sources.every((source) => statSync(source).mtimeMs <= statSync(binary).mtimeMs);
if (!upToDate) {
  const go = ['go', '/usr/local/go/bin/go'].find((candidate) => {
    try {
      execFileSync(candidate, ['version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (!go) {
    console.warn(
      'Go was not found, so the embedded database (FerretDB) was not built: install Go ≥ 1.24 (https://go.dev/dl) and run npm ci again, or set MONGODB_URI.',
    );
  } else {
    console.log('Building the embedded database (FerretDB v1.24.2, SQLite) with Go…');
    execFileSync(go, ['build', '-trimpath', '-buildvcs=false', '-o', binary, '.'], {
      cwd: here,
      stdio: 'inherit',
    });
  }
}
