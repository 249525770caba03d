import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import { PassportModule } from '@nestjs/passport';
import { UsersModule } from '../users/users.module.js';
import { ApplicationsController } from './applications.controller.js';
import { ApplicationsService } from './applications.service.js';
import { BearerAuthGuard } from './bearer-auth.guard.js';
import { BearerStrategy } from './bearer.strategy.js';
import { OAuthController } from './oauth.controller.js';
import { OAuthService } from './oauth.service.js';
import { Application, ApplicationSchema } from './schemas/application.schema.js';
import { Token, TokenSchema } from './schemas/token.schema.js';
import { TokenThrottle } from './token-throttle.service.js';
import { TokensService } from './tokens.service.js';

@Module({
  imports: [
    PassportModule,
    UsersModule,
    MongooseModule.forFeature([
      { name: Application.name, schema: ApplicationSchema },
      { name: Token.name, schema: TokenSchema },
    ]),
  ],
  controllers: [OAuthController, ApplicationsController],
  providers: [
    ApplicationsService,
    TokensService,
    TokenThrottle,
    OAuthService,
    BearerStrategy,
    { provide: APP_GUARD, useClass: BearerAuthGuard },
  ],
})
export class AuthModule {}
