import { Module } from '@nestjs/common';
import { MeResolver } from './me.resolver.js';
import { TokenVerifier } from './token-verifier.js';

@Module({ providers: [TokenVerifier, MeResolver], exports: [TokenVerifier] })
export class AuthModule {}
