import { projectConfigs } from '../../jest.preset.js';

export default { projects: projectConfigs(import.meta.dirname, 'bundle') };
