import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { FilesModule } from '../files/files.module.js';
import { PipelinesModule } from '../pipelines/pipelines.module.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { JobsWorker } from './jobs.worker.js';
import { WatermarkingModule } from '../watermarking/watermarking.module.js';
import { EmbeddingService } from './embedding.service.js';
import { Job, JobSchema } from './schemas/job.schema.js';

@Module({
  imports: [
    MongooseModule.forFeature([{ name: Job.name, schema: JobSchema }]),
    PipelinesModule,
    FilesModule,
    WatermarkingModule,
  ],
  controllers: [JobsController],
  providers: [JobsService, EmbeddingService, JobsWorker],
  exports: [JobsService, JobsWorker],
})
export class JobsModule {}
