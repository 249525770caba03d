// Builds the embedded database (FerretDB on SQLite, see main.go) into bin/ferretdb with Go from
// the Go module proxy. Run by `npm ci` (prepare) and `npm start` (prestart); quick when up to
// date. Without Go it says what to do and exits 0, so installs that use MONGODB_URI still work.
import { execFileSync } from 'node:child_process';
import console from 'node:console';
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'bin');
const binary = join(out, 'ferretdb');
const sources = ['main.go', 'go.mod', 'go.sum', 'build.mjs'].map((name) => join(here, name));

/**
 * FerretDB v1.24.2 looks `_id` up with the SQLite expression `->'$._id'` while its unique `_id`
 * index is on `->"_id"` (the same value, a different expression), so SQLite never uses the index
 * and every look-up, update and delete by `_id` scans the whole collection. The build compiles a
 * copy of the module with the expression the index has (that one constant changed), through a
 * go.mod of its own that replaces the module with the copy. Returns that go.mod.
 * @param {string} go the go command
 */
function patchedModFile(go) {
  execFileSync(go, ['mod', 'download', 'github.com/FerretDB/FerretDB'], { cwd: here });
  const moduleDir = execFileSync(
    go,
    ['list', '-m', '-f', '{{.Dir}}', 'github.com/FerretDB/FerretDB'],
    {
      cwd: here,
      encoding: 'utf8',
    },
  ).trim();
  const copy = join(out, 'FerretDB');
  rmSync(copy, { recursive: true, force: true });
  cpSync(moduleDir, copy, { recursive: true });
  execFileSync('chmod', ['-R', 'u+w', copy]);
  const metadata = join(copy, 'internal/backends/sqlite/metadata/metadata.go');
  const source = readFileSync(metadata, 'utf8');
  const patched = source.replace(
    `IDColumn = DefaultColumn + "->'$._id'"`,
    `IDColumn = DefaultColumn + "->'_id'"`,
  );
  if (patched === source) throw new Error(`${metadata} no longer has the expected IDColumn`);
  writeFileSync(metadata, patched);
  const modFile = join(out, 'go.mod');
  writeFileSync(
    modFile,
    `${readFileSync(join(here, 'go.mod'), 'utf8')}\nreplace github.com/FerretDB/FerretDB => ${copy}\n`,
  );
  cpSync(join(here, 'go.sum'), join(out, 'go.sum'));
  return modFile;
}

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
    const modFile = patchedModFile(go);
    execFileSync(
      go,
      ['build', '-trimpath', '-buildvcs=false', `-modfile=${modFile}`, '-o', binary, '.'],
      { cwd: here, stdio: 'inherit' },
    );
  }
}
