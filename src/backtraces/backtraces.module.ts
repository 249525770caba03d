import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { JobsModule } from '../jobs/jobs.module.js';
import { PipelinesModule } from '../pipelines/pipelines.module.js';
import { BacktracesAliasController, BacktracesController } from './backtraces.controller.js';
import { BacktracesService } from './backtraces.service.js';
import { Backtrace, BacktraceSchema } from './schemas/backtrace.schema.js';

@Module({
  imports: [
    MongooseModule.forFeature([{ name: Backtrace.name, schema: BacktraceSchema }]),
    JobsModule,
    PipelinesModule,
  ],
  controllers: [BacktracesController, BacktracesAliasController],
  providers: [BacktracesService],
  exports: [MongooseModule],
})
export class BacktracesModule {}
