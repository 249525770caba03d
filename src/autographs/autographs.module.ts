import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { EdgeTokensModule } from '../edge-tokens/edge-tokens.module.js';
import { JobsModule } from '../jobs/jobs.module.js';
import { NetworkModule } from '../network/network.module.js';
import { PipelinesModule } from '../pipelines/pipelines.module.js';
import { WatermarkingModule } from '../watermarking/watermarking.module.js';
import { AccessRecorder } from './access-recorder.service.js';
import { AccessSummaryStore } from './access-summary.store.js';
import { AutographRoster } from './autograph-roster.js';
import { AutographsController } from './autographs.controller.js';
import { AutographsService } from './autographs.service.js';
import { PlaybackController } from './playback.controller.js';
import { PlaybackService } from './playback.service.js';
import { RevocationSignal } from './revocation-signal.js';
import { SegmentFastPath } from './segment-fast-path.middleware.js';
import { AccessSummary, AccessSummarySchema } from './schemas/access-summary.schema.js';
import { Autograph, AutographSchema } from './schemas/autograph.schema.js';

@Module({
  imports: [
    MongooseModule.forFeature([
      { name: Autograph.name, schema: AutographSchema },
      { name: AccessSummary.name, schema: AccessSummarySchema },
    ]),
    EdgeTokensModule,
    JobsModule,
    NetworkModule,
    PipelinesModule,
    WatermarkingModule,
  ],
  controllers: [AutographsController, PlaybackController],
  providers: [
    AutographsService,
    PlaybackService,
    AccessRecorder,
    AccessSummaryStore,
    AutographRoster,
    RevocationSignal,
  ],
  exports: [AutographsService],
})
export class AutographsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(SegmentFastPath).forRoutes({ path: 'v1/play/*path', method: RequestMethod.GET });
  }
}
