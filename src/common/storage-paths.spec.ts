import { ApiError } from '../common/api-error.js';
import { directoryOfUri, directoryUri, isInside, resolveInputName } from './storage-paths.js';

const base = '/srv/storage/input';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof ApiError ? error.code : 'NOT_AN_API_ERROR';
  }
  return undefined;
}

describe('resolveInputName', () => {
  it.each([
    ['movie.mp4', '/srv/storage/input/movie.mp4'],
    [
      'uploads/QOSifPpTys1wcnEli3aXo50nyj2JROdO/movie.mp4',
      '/srv/storage/input/uploads/QOSifPpTys1wcnEli3aXo50nyj2JROdO/movie.mp4',
    ],
    ['./a/./b.mp4', '/srv/storage/input/a/b.mp4'],
    ['file:///srv/storage/input/a/b.mp4', '/srv/storage/input/a/b.mp4'],
    ['names with spaces & 100% fun.mp4', '/srv/storage/input/names with spaces & 100% fun.mp4'],
  ])('resolves %s below the input directory', (name, expected) => {
    expect(resolveInputName(base, name)).toBe(expected);
  });

  it.each([
    '../secret.mp4',
    'a/../../secret.mp4',
    '..',
    '/etc/passwd',
    'file:///etc/passwd',
    'file:///srv/storage/input-other/x.mp4',
    'http://example.com/x.mp4',
    'a%2f..%2f..%2fetc',
    '%2e%2e/secret',
    'a\\..\\b',
    'a\0b',
    '',
    '   ',
    '.',
    'x'.repeat(1025),
  ])('refuses %j', (name) => {
    expect(codeOf(() => resolveInputName(base, name))).toMatch(/^INVALID_(INPUT_NAME|URI)$/);
  });
});

describe('directory URIs', () => {
  it('reads file:// URIs and writes them back with a trailing slash', () => {
    expect(directoryOfUri('file:///srv/a/../b', 'input.uri')).toBe('/srv/b');
    expect(directoryUri('/srv/b')).toBe('file:///srv/b/');
    expect(directoryUri('/srv/with space')).toBe('file:///srv/with%20space/');
  });

  it('refuses other schemes and encoded slashes', () => {
    expect(codeOf(() => directoryOfUri('s3://bucket/key', 'input.uri'))).toBe('UNSUPPORTED_URI');
    expect(codeOf(() => directoryOfUri('file:///srv/a%2Fb', 'input.uri'))).toBe('INVALID_URI');
  });

  it('knows what is inside what', () => {
    expect(isInside('/srv/a', '/srv/a')).toBe(true);
    expect(isInside('/srv/a', '/srv/a/b/c')).toBe(true);
    expect(isInside('/srv/a', '/srv/ab')).toBe(false);
    expect(isInside('/srv/a', '/srv')).toBe(false);
    expect(isInside('/srv/a', '/srv/a/..b')).toBe(true);
  });
});
