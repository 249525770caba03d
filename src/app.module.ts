import { Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module.js';
import { AutographsModule } from './autographs/autographs.module.js';
import { BacktracesModule } from './backtraces/backtraces.module.js';
import { CommonModule } from './common/common.module.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { EdgeModule } from './edge/edge.module.js';
import { ExtractionModule } from './extraction/extraction.module.js';
import { FilesModule } from './files/files.module.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { PipelinesModule } from './pipelines/pipelines.module.js';
import { UsersModule } from './users/users.module.js';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    CommonModule,
    AuthModule,
    UsersModule,
    PipelinesModule,
    FilesModule,
    JobsModule,
    AutographsModule,
    BacktracesModule,
    EdgeModule,
    ExtractionModule,
    HealthModule,
  ],
})
export class AppModule {}
