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
import { JobSignatureRecord, JobSignatureRecordSchema } from './schemas/job-signature.schema.js';
import { JobSignaturesService } from './job-signatures.service.js';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Job.name, schema: JobSchema },
      { name: JobSignatureRecord.name, schema: JobSignatureRecordSchema },
    ]),
    PipelinesModule,
    FilesModule,
    WatermarkingModule,
  ],
  controllers: [JobsController],
  providers: [JobsService, EmbeddingService, JobsWorker, JobSignaturesService],
  exports: [JobsService, JobsWorker, JobSignaturesService],
})
export class JobsModule {}
