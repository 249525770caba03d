import { Controller, Get, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Connection } from 'mongoose';
import { Public } from '../common/auth.decorators.js';
import { databaseUnavailable } from '../common/api-error.js';

class HealthDto {
  @ApiProperty({ example: 'ok' }) status!: string;
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  private readonly logger = new Logger(HealthController.name);

  constructor(@InjectConnection() private readonly connection: Connection) {}

  @Get()
  @ApiOperation({ summary: 'Liveness with a database round trip' })
  @ApiOkResponse({ type: HealthDto })
  async check(): Promise<HealthDto> {
    try {
      if (!this.connection.db) throw new Error('not connected');
      await this.connection.db.command({ ping: 1 });
    } catch (error) {
      // The reason names the database's address: for the operator's log, not for anyone asking.
      this.logger.error(`health check: the database did not answer: ${(error as Error).message}`);
      throw databaseUnavailable();
    }
    return { status: 'ok' };
  }
}
