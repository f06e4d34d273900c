import type { SessionReason } from '@vdi/crd-types';
/**
 * The one error the renderer throws for input that cannot become a desktop: it names the field
 * and says what to do. The operator treats it as terminal (no retry) and reports it in status.
 */
export class SessionSpecError extends Error {
  override name = 'SessionSpecError';
  constructor(
    /** The offending field, e.g. `spec.resources.memory` or `template.spec.resources.maxGPU`. */
    readonly field: string,
    message: string,
    /** A CamelCase reason for the session's condition. */
    readonly reason: SessionReason = 'InvalidSpec',
  ) {
    super(`${field}: ${message}`);
  }
}
