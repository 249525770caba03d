import { Module } from '@nestjs/common';
import { IpIntelligence } from './ip-intelligence.js';

/**
 * Offline IP intelligence (country + IP2Location usage type) for access records. The databases
 * are loaded once, while the application boots.
 */
@Module({
  providers: [
    { provide: IpIntelligence, useFactory: (): Promise<IpIntelligence> => IpIntelligence.open() },
  ],
  exports: [IpIntelligence],
})
export class NetworkModule {}
