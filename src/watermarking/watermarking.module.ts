import { Module } from '@nestjs/common';
import { WatermarkEngine } from './watermark-engine.service.js';
import { WatermarkKeysService } from './watermark-keys.service.js';

/** The Nest side of the watermark engine: keys, codebooks, and the engine behind one service. */
@Module({
  providers: [WatermarkKeysService, WatermarkEngine],
  exports: [WatermarkKeysService, WatermarkEngine],
})
export class WatermarkingModule {}
