import { existsSync } from 'node:fs';
import { Global, Module } from '@nestjs/common';
import { Environment, validateEnvironment } from './environment.js';

/**
 * Reads `.env` (if present; variables already set win), validates the environment once at
 * start-up (a bad value stops the process naming the variable) and provides the typed
 * `Environment`.
 */
@Global()
@Module({
  providers: [
    {
      provide: Environment,
      useFactory: () => {
        if (existsSync('.env')) process.loadEnvFile('.env');
        return validateEnvironment(process.env);
      },
    },
  ],
  exports: [Environment],
})
export class ConfigModule {}
