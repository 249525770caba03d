import { Module } from '@nestjs/common';
import { WatermarkingModule } from '../watermarking/watermarking.module.js';
import { EdgeTokensService } from './edge-tokens.service.js';

/** Edge token issuing, apart from the edge API so that autographs can use it without a cycle. */
@Module({
  imports: [WatermarkingModule],
  providers: [EdgeTokensService],
  exports: [EdgeTokensService],
})
export class EdgeTokensModule {}
