import { API_VERSION, isTerminalPhase, SESSION_PHASES } from './index.js';

describe('v1alpha1', () => {
  it('is served as vdi.kasm.io/v1alpha1', () => {
    expect(API_VERSION).toBe('vdi.kasm.io/v1alpha1');
  });
  it('treats only Failed and Terminating as terminal', () => {
    expect(SESSION_PHASES.filter(isTerminalPhase)).toEqual(['Failed', 'Terminating']);
  });
});
