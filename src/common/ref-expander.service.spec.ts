import { jest } from '@jest/globals';
import { RefExpander } from './ref-expander.service.js';
import { Ref } from './refs.js';

describe('RefExpander', () => {
  const expander = new RefExpander();
  const userLoader = jest.fn((ids: string[]) =>
    Promise.resolve(new Map(ids.map((id) => [id, { id, email: `${id}@example.test` }]))),
  );
  expander.register('user', userLoader);
  expander.register('pipeline', (ids) =>
    Promise.resolve(new Map(ids.map((id) => [id, { id, user: new Ref('user', 'u1') }]))),
  );

  beforeEach(() => userLoader.mockClear());

  it('expands only the kinds asked for, one level, in one batch per kind', async () => {
    const body = {
      items: [
        { user: new Ref('user', 'u1'), pipeline: new Ref('pipeline', 'p1') },
        { user: new Ref('user', 'u2'), pipeline: new Ref('pipeline', 'p1') },
      ],
    };
    await expander.expand(body, { kinds: new Set(['user']), all: false });
    expect(body.items[0].user).toEqual({ id: 'u1', email: 'u1@example.test' });
    expect(body.items[1].user).toEqual({ id: 'u2', email: 'u2@example.test' });
    expect(body.items[0].pipeline).toBeInstanceOf(Ref);
    expect(userLoader).toHaveBeenCalledTimes(1);
    expect(userLoader).toHaveBeenCalledWith(['u1', 'u2']);
  });

  it('expands recursively with expand_all', async () => {
    const body = { backtrace: { pipeline: new Ref('pipeline', 'p1') } };
    await expander.expand(body, { kinds: new Set(['user', 'pipeline']), all: true });
    expect(body.backtrace.pipeline).toEqual({
      id: 'p1',
      user: { id: 'u1', email: 'u1@example.test' },
    });
  });

  it('leaves a reference whose object is gone as a reference', async () => {
    const body = { file: new Ref('file', 'f1') };
    await expander.expand(body, { kinds: new Set(['file']), all: false });
    expect(body.file).toBeInstanceOf(Ref);
  });
});
