import { Module } from '@nestjs/common';
import { TemplatesModule } from '../templates/templates.module.js';
import { UsageModule } from '../usage/usage.module.js';
import { SessionsResolver } from './sessions.resolver.js';
import { SessionEvents } from './session-events.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [TemplatesModule, UsageModule],
  providers: [SessionEvents, SessionsService, SessionsResolver],
  exports: [SessionEvents, SessionsService],
})
export class SessionsModule {}
