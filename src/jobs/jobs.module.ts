import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { FilesModule } from '../files/files.module.js';
import { PipelinesModule } from '../pipelines/pipelines.module.js';
import { JobsController } from './jobs.controller.js';
import { JobsService } from './jobs.service.js';
import { JobsWorker } from './jobs.worker.js';
import { WatermarkKeysService } from './watermark-keys.service.js';
import { Job, JobSchema } from './schemas/job.schema.js';

@Module({
  imports: [
    MongooseModule.forFeature([{ name: Job.name, schema: JobSchema }]),
    PipelinesModule,
    FilesModule,
  ],
  controllers: [JobsController],
  providers: [JobsService, JobsWorker, WatermarkKeysService],
  exports: [JobsService, JobsWorker, WatermarkKeysService, MongooseModule],
})
export class JobsModule {}
