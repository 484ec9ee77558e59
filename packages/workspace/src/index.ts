export { loadWorkspace, ALWAYS_IGNORED, MANIFEST_GLOB, type LoadWorkspaceOptions } from './discover.js';
export { findConfigFile, readConfig, CONFIG_FILE, DEFAULT_MAX_LAYERS, DEFAULT_SERVICES } from './config.js';
export { configSchemaPath, manifestSchemaPath, validateAgainstSchema } from './schema.js';
export { readJsonFile } from './json.js';
export type { CheckThresholds, ImageConfig, PlannerConfig, Service, ServiceManifest, Workspace } from './types.js';
