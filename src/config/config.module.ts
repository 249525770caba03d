import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { Environment, validateEnvironment } from './environment.js';

/**
 * Loads `.env` (if present) into the environment, validates it once at start-up (a bad
 * value stops the process naming the variable) and provides the typed `Environment`.
 */
@Global()
@Module({
  imports: [NestConfigModule.forRoot({ cache: true, validate: validateEnvironment })],
  providers: [{ provide: Environment, useFactory: () => validateEnvironment(process.env) }],
  exports: [Environment],
})
export class ConfigModule {}
