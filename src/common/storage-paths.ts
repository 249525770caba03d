import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApiError } from './api-error.js';

/** Whether `candidate` is `root` or lies below it (both absolute and normalised). */
export function isInside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The absolute directory of a `file://` URI, or a 400 saying what a valid URI looks like. */
export function directoryOfUri(uri: string, field: string): string {
  if (!/^file:\/\//i.test(uri)) {
    throw ApiError.badRequest(
      'UNSUPPORTED_URI',
      `${field} must be a file:// URI of a directory (e.g. file:///srv/autograph/input), not '${uri.slice(0, 200)}'.`,
    );
  }
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch (error) {
    throw ApiError.badRequest(
      'INVALID_URI',
      `${field} is not a valid file:// URI: ${(error as Error).message}.`,
    );
  }
  if (path.includes('\0'))
    throw ApiError.badRequest('INVALID_URI', `${field} contains a NUL character.`);
  return resolve(path);
}

/** The canonical URI form of a directory: `file:///abs/dir/`. */
export function directoryUri(path: string): string {
  const href = pathToFileURL(path).href;
  return href.endsWith('/') ? href : `${href}/`;
}

const URI_SCHEME = /^[a-z][a-z0-9+.-]*:/i;
/** Percent-encodings of `.`, `/`, `\` and NUL: no honest file name needs them to reach a file. */
const ENCODED_SEPARATOR = /%(2e|2f|5c|00)/i;

/**
 * Resolves an `input_name` against a pipeline's input directory. Relative names stay below
 * the directory; `file://` URIs are accepted when they point below it. Anything that could
 * escape (`..`, absolute paths, encoded separators, backslashes, NUL) is refused. Symlinks
 * are checked separately, on the real file system (StorageService).
 */
export function resolveInputName(baseDir: string, inputName: string): string {
  const refuse = (why: string): never => {
    throw ApiError.badRequest(
      'INVALID_INPUT_NAME',
      `input_name '${inputName.slice(0, 200)}' ${why}: give a path relative to the pipeline's input directory, such as uploads/movie.mp4.`,
    );
  };
  if (inputName.trim() === '') refuse('is empty');
  if (inputName.length > 1024) refuse('is longer than 1024 characters');
  if (inputName.includes('\0')) refuse('contains a NUL character');
  if (inputName.includes('\\')) refuse('contains a backslash');
  if (ENCODED_SEPARATOR.test(inputName)) refuse('contains a percent-encoded separator');
  let path: string;
  if (/^file:/i.test(inputName)) {
    path = directoryOfUri(inputName, 'input_name');
  } else if (URI_SCHEME.test(inputName)) {
    return refuse('uses a URI scheme other than file://');
  } else if (isAbsolute(inputName)) {
    return refuse('is an absolute path');
  } else {
    if (inputName.split('/').includes('..')) refuse("contains '..'");
    path = resolve(baseDir, inputName);
  }
  if (!isInside(baseDir, path) || path === baseDir)
    refuse("is not a file inside the pipeline's input directory");
  return path;
}
