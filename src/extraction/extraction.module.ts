import { Module } from '@nestjs/common';
import { AutographsModule } from '../autographs/autographs.module.js';
import { BacktracesModule } from '../backtraces/backtraces.module.js';
import { FilesModule } from '../files/files.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { PipelinesModule } from '../pipelines/pipelines.module.js';
import { ExtractionWorker } from './extraction.worker.js';

/** The scheduled backtrace worker. */
@Module({
  imports: [BacktracesModule, JobsModule, AutographsModule, PipelinesModule, FilesModule],
  providers: [ExtractionWorker],
  exports: [ExtractionWorker],
})
export class ExtractionModule {}
