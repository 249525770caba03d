import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync } from 'node:fs';
import { AppModule } from '../src/app.module.js';
import { buildOpenApiDocument } from '../src/app.setup.js';
import { stableJson } from '../src/openapi/stable-json.js';

describe('openapi/openapi.json', () => {
  it('is up to date with the code (regenerate with `npm run openapi`)', async () => {
    const app = await NestFactory.create<NestExpressApplication>(AppModule, {
      preview: true,
      logger: false,
    });
    const generated = stableJson(buildOpenApiDocument(app));
    await app.close();
    const committed = readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(generated);
  });

  it('documents every query parameter of the Backtrace API', () => {
    const document = JSON.parse(
      readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8'),
    ) as { paths: Record<string, Record<string, { parameters: { name: string }[] }>> };
    const names = (path: string, method: string) =>
      document.paths[path][method].parameters.map((p) => p.name).sort();
    expect(names('/v1/titles/backtraces', 'post')).toEqual([
      'format',
      'human',
      'job_id',
      'show_null',
    ]);
    expect(names('/v1/titles/backtraces', 'get')).toEqual([
      'direction',
      'expand',
      'expand_all',
      'format',
      'human',
      'limit',
      'show_null',
      'sort',
      'start',
    ]);
    expect(names('/v1/titles/backtraces/{id}', 'get')).toEqual([
      'expand',
      'expand_all',
      'format',
      'human',
      'id',
      'show_null',
    ]);
  });
});
