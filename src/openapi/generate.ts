import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppModule } from '../app.module.js';
import { buildOpenApiDocument } from '../app.setup.js';
import { stableJson } from './stable-json.js';

/** `npm run openapi`: writes openapi/openapi.json from the code (no database needed). */
async function main(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    preview: true,
    logger: false,
  });
  const target = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));
  writeFileSync(target, stableJson(buildOpenApiDocument(app)));
  await app.close();
  console.log(`wrote ${target}`);
}

void main();
