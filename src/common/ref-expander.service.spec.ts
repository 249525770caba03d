import { jest } from '@jest/globals';
import { Types } from 'mongoose';
import type { Principal } from './principal.js';
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

  const admin: Principal = { userId: new Types.ObjectId(), role: 'admin', applicationId: null };
  beforeEach(() => userLoader.mockClear());

  it('expands only the kinds asked for, one level, in one batch per kind', async () => {
    const body = {
      items: [
        { user: new Ref('user', 'u1'), pipeline: new Ref('pipeline', 'p1') },
        { user: new Ref('user', 'u2'), pipeline: new Ref('pipeline', 'p1') },
      ],
    };
    await expander.expand(body, { kinds: new Set(['user']), all: false, viewer: admin });
    expect(body.items[0].user).toEqual({ id: 'u1', email: 'u1@example.test' });
    expect(body.items[1].user).toEqual({ id: 'u2', email: 'u2@example.test' });
    expect(body.items[0].pipeline).toBeInstanceOf(Ref);
    expect(userLoader).toHaveBeenCalledTimes(1);
    expect(userLoader).toHaveBeenCalledWith(['u1', 'u2']);
  });

  it('expands recursively with expand_all', async () => {
    const body = { backtrace: { pipeline: new Ref('pipeline', 'p1') } };
    await expander.expand(body, { kinds: new Set(['user', 'pipeline']), all: true, viewer: admin });
    expect(body.backtrace.pipeline).toEqual({
      id: 'p1',
      user: { id: 'u1', email: 'u1@example.test' },
    });
  });

  it('leaves a reference whose object is gone as a reference', async () => {
    const body = { file: new Ref('file', 'f1') };
    await expander.expand(body, { kinds: new Set(['file']), all: false, viewer: admin });
    expect(body.file).toBeInstanceOf(Ref);
  });

  it('embeds only what the viewer could GET directly, as a direct GET would', async () => {
    const owner = new Types.ObjectId();
    const other = new Types.ObjectId();
    const viewer: Principal = { userId: owner, role: 'user', applicationId: null };
    expander.register('application', (ids) =>
      Promise.resolve(
        new Map(
          ids.map((id) => [id, { id, client_id: 'c', user: new Ref('user', other.toString()) }]),
        ),
      ),
    );
    const body = {
      autograph: {
        user: new Ref('user', owner.toString()),
        application: new Ref('application', 'a1'),
        created_by: new Ref('user', other.toString()),
      },
    };
    await expander.expand(body, { kinds: new Set(['user', 'application']), all: true, viewer });
    expect(body.autograph.user).toEqual({
      id: owner.toString(),
      email: `${owner.toString()}@example.test`,
    });
    expect(body.autograph.application).toBeInstanceOf(Ref);
    expect(body.autograph.created_by).toBeInstanceOf(Ref);
  });
});
