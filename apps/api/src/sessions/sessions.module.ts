import { Module } from '@nestjs/common';
import { TemplatesModule } from '../templates/templates.module.js';
import { SessionsResolver } from './sessions.resolver.js';
import { SessionsService } from './sessions.service.js';

@Module({ imports: [TemplatesModule], providers: [SessionsService, SessionsResolver] })
export class SessionsModule {}
