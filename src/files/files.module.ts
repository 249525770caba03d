import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { WatermarkingModule } from '../watermarking/watermarking.module.js';
import { FilesController } from './files.controller.js';
import { FilesService } from './files.service.js';
import { File, FileSchema } from './schemas/file.schema.js';

@Module({
  imports: [
    MongooseModule.forFeature([{ name: File.name, schema: FileSchema }]),
    WatermarkingModule,
  ],
  controllers: [FilesController],
  providers: [FilesService],
  exports: [FilesService],
})
export class FilesModule {}
