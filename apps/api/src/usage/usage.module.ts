import { Module } from '@nestjs/common';
import { UsageResolver } from './usage.resolver.js';
import { UsageService } from './usage.service.js';

@Module({ providers: [UsageService, UsageResolver], exports: [UsageService] })
export class UsageModule {}
