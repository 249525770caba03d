import { Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { Environment } from '../config/environment.js';
import { EmbeddedMongo } from './embedded-mongo.js';

const logger = new Logger('Database');

/**
 * The MongoDB connection: MONGODB_URI when set, else an embedded in-memory server that this
 * process starts and stops.
 */
@Module({
  providers: [EmbeddedMongo],
  exports: [EmbeddedMongo],
})
class EmbeddedMongoModule implements OnApplicationShutdown {
  constructor(private readonly embedded: EmbeddedMongo) {}

  async onApplicationShutdown(): Promise<void> {
    await this.embedded.stop();
  }
}

@Module({
  imports: [
    MongooseModule.forRootAsync({
      imports: [EmbeddedMongoModule],
      inject: [Environment, EmbeddedMongo],
      useFactory: async (environment: Environment, embedded: EmbeddedMongo) => {
        let uri = environment.MONGODB_URI;
        if (!uri) {
          uri = await embedded.start();
          logger.warn(
            `MONGODB_URI is not set: using an embedded MongoDB-compatible server at ${uri}. ` +
              'It keeps data in memory only: everything is lost when the process stops.',
          );
        }
        return { uri, autoCreate: false, serverSelectionTimeoutMS: 10_000 };
      },
    }),
  ],
})
export class DatabaseModule {}
