import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { closestMatch, PlannerError, type PlannerErrorCode } from '@planner/errors';

const schemaDir = fileURLToPath(new URL('../schemas/', import.meta.url));

export const configSchemaPath = `${schemaDir}planner.config.schema.json`;
export const manifestSchemaPath = `${schemaDir}image.schema.json`;

// validateSchema: false skips compiling JSON Schema's own meta-schema on every run (about
// 60 ms of a no-op `planner build`); the shipped schemas are checked against it by a test.
const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false, validateSchema: false });
let validators: { config: ValidateFunction; manifest: ValidateFunction } | undefined;

function load(): { config: ValidateFunction; manifest: ValidateFunction } {
  validators ??= {
    config: ajv.compile(JSON.parse(readFileSync(configSchemaPath, 'utf8')) as object),
    manifest: ajv.compile(JSON.parse(readFileSync(manifestSchemaPath, 'utf8')) as object),
  };
  return validators;
}

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
}

function knownFields(schema: object, instancePath: string): string[] {
  let node = schema as SchemaNode;
  for (const part of instancePath.split('/').filter(Boolean)) {
    node = node.properties?.[part] ?? {};
  }
  return Object.keys(node.properties ?? {});
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'the top level' : `"${error.instancePath.slice(1).replaceAll('/', '.')}"`;
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** The OCI image config's fields (image-spec config.md), which manifests take under "config". */
const OCI_CONFIG_FIELDS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal'];

/**
 * Validates `value` against the config or manifest schema. An unknown field gets its own code
 * and the closest valid field as a hint; everything else is reported in one message.
 */
export function validateAgainstSchema(kind: 'config' | 'manifest', value: unknown, file: string): void {
  const validate = load()[kind];
  if (validate(value)) return;
  const errors = validate.errors ?? [];
  const unknown = errors.find((e) => e.keyword === 'additionalProperties');
  const what = kind === 'config' ? 'planner.config.json' : 'manifest';
  if (unknown) {
    const field = String((unknown.params as { additionalProperty: string }).additionalProperty);
    const candidates = knownFields(validate.schema as object, unknown.instancePath);
    // The closest field only when it is close (a typo), else the list: "cmd" is not "name".
    const suggestion = closestMatch(field, candidates);
    // An OCI config field at the top of a manifest belongs under "config".
    const oci = kind === 'manifest' && unknown.instancePath === '' ? OCI_CONFIG_FIELDS.find((f) => f.toLowerCase() === field.toLowerCase()) : undefined;
    const at = unknown.instancePath ? ` in "${unknown.instancePath.slice(1).replaceAll('/', '.')}"` : '';
    const code: PlannerErrorCode = kind === 'config' ? 'E_CONFIG_INVALID' : 'E_MANIFEST_UNKNOWN_FIELD';
    throw new PlannerError(code, `${file}: unknown field "${field}"${at}`, {
      file,
      hint: oci ? `"${oci}" belongs in the image's OCI config: "config": { "${oci}": ... }` : suggestion ? `did you mean "${suggestion}"?` : `valid fields: ${candidates.join(', ')}`,
      details: { field, ...(suggestion ? { suggestion } : {}) },
    });
  }
  const messages = errors.filter((e) => e.keyword !== 'if').map(describe);
  throw new PlannerError(kind === 'config' ? 'E_CONFIG_INVALID' : 'E_MANIFEST_INVALID', `${file}: invalid ${what}: ${[...new Set(messages)].join('; ')}`, {
    file,
    hint: `see the schema at ${kind === 'config' ? configSchemaPath : manifestSchemaPath}`,
  });
}
