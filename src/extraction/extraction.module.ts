import { Module } from '@nestjs/common';
import { BacktracesModule } from '../backtraces/backtraces.module.js';
import { ExtractionWorker } from './extraction.worker.js';

/** The scheduled backtrace worker (the use case is TracingService, in backtraces/). */
@Module({
  imports: [BacktracesModule],
  providers: [ExtractionWorker],
  exports: [ExtractionWorker],
})
export class ExtractionModule {}
