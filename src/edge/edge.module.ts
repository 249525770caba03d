import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AutographsModule } from '../autographs/autographs.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { EdgeController } from './edge.controller.js';
import { EdgeService } from './edge.service.js';
import { EdgeTokensModule } from '../edge-tokens/edge-tokens.module.js';
import { EdgeLogStream, EdgeLogStreamSchema } from './schemas/edge-log-stream.schema.js';

/** Delivery through CDN edges: their configuration, revocation list and access logs. */
@Module({
  imports: [
    MongooseModule.forFeature([{ name: EdgeLogStream.name, schema: EdgeLogStreamSchema }]),
    AutographsModule,
    EdgeTokensModule,
    JobsModule,
  ],
  controllers: [EdgeController],
  providers: [EdgeService],
})
export class EdgeModule {}
