import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { AccessResolver } from './access.resolver.js';
import { AccessService } from './access.service.js';
import { ForwardAuthController } from './forward-auth.controller.js';

@Module({
  imports: [SessionsModule, AuthModule],
  providers: [AccessService, AccessResolver],
  controllers: [ForwardAuthController],
})
export class AccessModule {}
