/**
 * planner.lock.json: the plan as last written, read back as `previous` on the next run so
 * layers that are still valid keep their exact path sets (and ids) and an update pushes
 * only what changed.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { PlannerError } from '@planner/errors';
import lockSchema from '../schemas/planner.lock.schema.json' with { type: 'json' };
import { byteOrder, layerId } from './layer-id.js';
import type { Plan, PlanImage, PlanLayer } from './types.js';

export const LOCK_FILE = 'planner.lock.json';
export const LOCK_VERSION = 1;

/**
 * The lock file's text: fixed field order, layers in the plan's bottom-to-top order,
 * images by name, paths sorted, two-space indent, trailing newline. Equal plans give
 * byte-identical files.
 */
export function serializeLock(plan: Plan): string {
  const body = {
    lockVersion: LOCK_VERSION,
    maxLayers: plan.maxLayers,
    storeDir: plan.storeDir,
    layers: plan.layers.map((layer) => ({
      id: layer.id,
      narSize: layer.narSize,
      images: [...layer.images].sort(byteOrder),
      paths: [...layer.paths].sort(byteOrder),
    })),
    images: [...plan.images].sort((a, b) => byteOrder(a.name, b.name)).map((image) => ({ name: image.name, layers: [...image.layers] })),
  };
  return `${JSON.stringify(body, null, 2)}\n`;
}

const HINT = `${LOCK_FILE} is written by planner: resolve the conflict or undo the edit, or delete it (or run planner plan --no-lock) to plan afresh`;

/** Parses and validates a lock file; anything malformed is E_LOCK_PARSE naming the file. */
export function parseLock(text: string, file: string): Plan {
  const fail = (why: string): PlannerError => new PlannerError('E_LOCK_PARSE', `${file}: ${why}`, { file, hint: HINT });
  if (/^(<{7}|={7}|>{7})( |$)/m.test(text)) throw fail('contains merge conflict markers');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PlannerError('E_LOCK_PARSE', `${file}: malformed JSON: ${(error as Error).message}`, { file, hint: HINT, cause: error });
  }
  if (!isObject(raw)) throw fail('expected a JSON object');
  if (raw.lockVersion !== LOCK_VERSION) {
    const why = `lockVersion ${JSON.stringify(raw.lockVersion)} is not supported (this planner reads ${LOCK_VERSION})`;
    if (typeof raw.lockVersion === 'number' && raw.lockVersion > LOCK_VERSION) {
      throw new PlannerError('E_LOCK_PARSE', `${file}: ${why}: it was written by a newer planner`, {
        file,
        hint: 'upgrade planner to the version that wrote it (keep the file: it still pins the layers)',
      });
    }
    throw fail(why);
  }
  // The shape, by the published schema (schemas/planner.lock.schema.json); then what a
  // schema cannot say: paths in the store, sorted, ids matching paths, images consistent.
  const validate = shapeValidator();
  if (!validate(raw)) throw fail(`not a valid lock: ${shapeErrors(validate.errors)}`);
  const lock = raw as unknown as LockFile;
  const { maxLayers, storeDir } = lock;
  const layers: PlanLayer[] = [];
  const ids = new Set<string>();
  for (const [index, { id, narSize, paths, images }] of lock.layers.entries()) {
    const where = `layers[${index}]`;
    if (!Number.isSafeInteger(narSize)) throw fail(`${where}.narSize is too large to be exact`);
    for (const [k, path] of paths.entries()) {
      if (!path.startsWith(`${storeDir}/`) || path.length <= storeDir.length + 1) throw fail(`${where}.paths[${k}] ${JSON.stringify(path)} is not in ${storeDir}`);
      if (k > 0 && !(paths[k - 1]! < path)) throw fail(`${where}.paths must be sorted and unique`);
    }
    if (layerId(paths) !== id) throw fail(`${where}: id ${id} does not match its paths (edited by hand?)`);
    if (ids.has(id)) throw fail(`layer ${id} is listed twice`);
    ids.add(id);
    layers.push({ id, paths: [...paths], narSize, images: [...images] });
  }
  const planImages: PlanImage[] = [];
  const users = new Map<string, string[]>();
  const names = new Set<string>();
  for (const { name, layers: list } of lock.images) {
    if (names.has(name)) throw fail(`image ${name} is listed twice`);
    names.add(name);
    for (const id of list) {
      if (!ids.has(id)) throw fail(`${name} uses layer ${id}, which the lock does not define`);
      (users.get(id) ?? users.set(id, []).get(id)!).push(name);
    }
    if (new Set(list).size !== list.length) throw fail(`${name} lists a layer twice`);
    planImages.push({ name, layers: [...list] });
  }
  for (const layer of layers) {
    const expected = (users.get(layer.id) ?? []).sort(byteOrder).join('\n');
    if ([...layer.images].sort(byteOrder).join('\n') !== expected) throw fail(`layer ${layer.id}: its images do not match the images that list it`);
  }
  return { maxLayers, storeDir, layers, images: planImages };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The file as the schema describes it. */
interface LockFile {
  lockVersion: number;
  maxLayers: number;
  storeDir: string;
  layers: { id: string; narSize: number; images: string[]; paths: string[] }[];
  images: { name: string; layers: string[] }[];
}

// Compiled on first use, without the meta-schema (checked by a test): commands that never
// read a lock do not pay for it.
let compiledShape: ValidateFunction | undefined;
const shapeValidator = (): ValidateFunction => (compiledShape ??= new Ajv({ allErrors: false, strict: true, validateSchema: false }).compile(lockSchema));

/** "layers[3].narSize must be integer", from ajv's first error. */
function shapeErrors(errors: ErrorObject[] | null | undefined): string {
  const first = errors?.[0];
  if (!first) return 'unknown error';
  const where = first.instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  const extra = first.keyword === 'additionalProperties' ? ` "${String((first.params as { additionalProperty: string }).additionalProperty)}"` : '';
  return `${where || 'the top level'} ${first.message ?? 'is invalid'}${extra}`;
}
