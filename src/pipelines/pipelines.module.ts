import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { PipelinesController } from './pipelines.controller.js';
import { PipelinesService } from './pipelines.service.js';
import { Pipeline, PipelineSchema } from './schemas/pipeline.schema.js';
import { StorageService } from './storage.service.js';
import { UsersModule } from '../users/users.module.js';

@Module({
  imports: [
    UsersModule,
    MongooseModule.forFeature([{ name: Pipeline.name, schema: PipelineSchema }]),
  ],
  controllers: [PipelinesController],
  providers: [PipelinesService, StorageService],
  exports: [PipelinesService, StorageService],
})
export class PipelinesModule {}
