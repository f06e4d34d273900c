/**
 * A VDITemplate's status, written by the operator and read by the API (`Template.usable`), the
 * portal and `kubectl get vditemplates` (Ready, Sessions): whether a session with the template's
 * defaults can be resolved from it, and how many sessions use it. Pure: the time comes in, and
 * the Ready condition keeps its lastTransitionTime while its status does not change.
 */
import {
  TemplateConditionType,
  TemplateReason,
  templateSpecErrors,
  withTemplateDefaults,
  type VDITemplate,
  type VDITemplateStatus,
} from '@vdi/crd-types';
import { SessionSpecError } from './errors.js';
import { resolveSession } from './resolve.js';

/** Why a template cannot become a desktop (schema, then a default session's resolution); empty when usable. */
export function templateProblems(template: VDITemplate): string[] {
  const spec = withTemplateDefaults(structuredClone(template.spec));
  const schema = templateSpecErrors(spec);
  if (schema.length) return schema;
  try {
    resolveSession({ user: 'template-check', template: template.metadata.name ?? 'template' }, spec);
    return [];
  } catch (err) {
    if (err instanceof SessionSpecError) return [err.message];
    throw err;
  }
}

export function templateStatus(template: VDITemplate, sessions: number, now: Date): VDITemplateStatus {
  const problems = templateProblems(template);
  const ready = problems.length === 0;
  const before = template.status?.conditions?.find((c) => c.type === TemplateConditionType.Ready);
  const status = ready ? ('True' as const) : ('False' as const);
  const message = ready
    ? 'sessions can be created from this template'
    : `the template cannot become a desktop: ${problems.join('; ')}; fix its spec (kubectl edit vditemplate ${template.metadata.name})`;
  return {
    ...(template.metadata.generation !== undefined
      ? { observedGeneration: template.metadata.generation }
      : {}),
    ready,
    ...(ready ? {} : { message }),
    sessions,
    conditions: [
      {
        type: TemplateConditionType.Ready,
        status,
        reason: ready ? TemplateReason.Valid : TemplateReason.Invalid,
        message,
        lastTransitionTime:
          before?.status === status && before.lastTransitionTime
            ? before.lastTransitionTime
            : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(template.metadata.generation !== undefined
          ? { observedGeneration: template.metadata.generation }
          : {}),
      },
    ],
  };
}
