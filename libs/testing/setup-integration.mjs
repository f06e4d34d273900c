// Integration tests wait on real components (scheduling, garbage collection, kwok stages):
// jest's 5 s default is too short, and `testTimeout` is not a per-project option.
import { jest } from '@jest/globals';

jest.setTimeout(120_000);
