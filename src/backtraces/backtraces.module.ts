import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AutographsModule } from '../autographs/autographs.module.js';
import { FilesModule } from '../files/files.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { PipelinesModule } from '../pipelines/pipelines.module.js';
import { WatermarkingModule } from '../watermarking/watermarking.module.js';
import { BacktracesAliasController, BacktracesController } from './backtraces.controller.js';
import { BacktracesService } from './backtraces.service.js';
import { Backtrace, BacktraceSchema } from './schemas/backtrace.schema.js';
import { TracingService } from './tracing.service.js';
import { JobFinderService } from './job-finder.service.js';
import { EvidenceService } from './evidence/evidence.service.js';

@Module({
  imports: [
    MongooseModule.forFeature([{ name: Backtrace.name, schema: BacktraceSchema }]),
    JobsModule,
    AutographsModule,
    PipelinesModule,
    FilesModule,
    WatermarkingModule,
  ],
  controllers: [BacktracesController, BacktracesAliasController],
  providers: [BacktracesService, TracingService, JobFinderService, EvidenceService],
  exports: [TracingService],
})
export class BacktracesModule {}
