import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { Environment } from '../config/environment.js';
import { EmbeddedFerretDb } from './embedded-ferretdb.js';

const logger = new Logger('Database');

/**
 * The MongoDB connection: MONGODB_URI when set, else the embedded FerretDB (SQLite in DATA_DIR)
 * that this process starts and stops.
 */
@Module({
  providers: [EmbeddedFerretDb],
  exports: [EmbeddedFerretDb],
})
class EmbeddedFerretDbModule implements OnApplicationShutdown {
  constructor(private readonly embedded: EmbeddedFerretDb) {}

  async onApplicationShutdown(): Promise<void> {
    await this.embedded.stop();
  }
}

@Module({
  imports: [
    MongooseModule.forRootAsync({
      imports: [EmbeddedFerretDbModule],
      inject: [Environment, EmbeddedFerretDb],
      useFactory: async (environment: Environment, embedded: EmbeddedFerretDb) => {
        let uri = environment.MONGODB_URI;
        if (!uri) {
          uri = await embedded.start(environment.DATA_DIR);
          logger.log(
            `MONGODB_URI is not set: using the embedded FerretDB at ${uri}, data in ${environment.DATA_DIR}.`,
          );
        }
        return { uri, autoCreate: false, serverSelectionTimeoutMS: 10_000 };
      },
    }),
  ],
})
export class DatabaseModule {}
