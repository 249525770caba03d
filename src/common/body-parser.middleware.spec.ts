import { ApiError } from './api-error.js';
import { parseBody } from './body-parser.middleware.js';

describe('parseBody', () => {
  it('reads strict JSON', () => {
    expect(
      parseBody('{"backtrace": {"input": {"input_name": "a.mp4"}}}', 'application/json'),
    ).toEqual({
      backtrace: { input: { input_name: 'a.mp4' } },
    });
  });

  it("reads the Backtrace API document's single-quoted body sent with curl's default form content type", () => {
    const seedBody =
      "{ 'backtrace': { 'pipeline' :{ 'id': '552b87a814eab3a29d1b3d90' }, 'input' : { 'input_name' :'uploads/QOSifPpTys1wcnEli3aXo50nyj2JROdO/movie.mp4' } } }";
    expect(parseBody(seedBody, 'application/x-www-form-urlencoded')).toEqual({
      backtrace: {
        pipeline: { id: '552b87a814eab3a29d1b3d90' },
        input: { input_name: 'uploads/QOSifPpTys1wcnEli3aXo50nyj2JROdO/movie.mp4' },
      },
    });
  });

  it('reads real forms, keeping repeated parameters visible', () => {
    expect(
      parseBody(
        'grant_type=password&username=a%40b.c&password=p+q',
        'application/x-www-form-urlencoded',
      ),
    ).toEqual({
      grant_type: 'password',
      username: 'a@b.c',
      password: 'p q',
    });
    expect(parseBody('a=1&a=2', 'application/x-www-form-urlencoded')).toEqual({ a: ['1', '2'] });
  });

  it('treats an empty body as an empty object', () => {
    expect(parseBody('  ', 'application/json')).toEqual({});
  });

  it('refuses what is not JSON, and multipart', () => {
    expect(() => parseBody('{"a": ', 'application/json')).toThrow(ApiError);
    expect(() => parseBody('{}', 'multipart/form-data; boundary=x')).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED_MEDIA_TYPE' }),
    );
  });

  it('does not let __proto__ reach the prototype', () => {
    const parsed = parseBody("{'__proto__': {'polluted': true}}", 'text/plain') as Record<
      string,
      unknown
    >;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });
});
