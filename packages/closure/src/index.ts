export type { Closure, PathInfo } from './types.js';
export { parseClosure, findCycle, reachable, byteOrder, type ClosureShape, type ParseClosureOptions, type ParsedClosure } from './parse.js';
export { checkStorePath, isStorePath, validateBaseName } from './storepath.js';
export { runNix, realise, queryClosure, type Installable, type NixOptions, type NixRun } from './nix.js';
export { loadClosures, type ClosureSource, type LoadedImageClosure, type LoadClosuresOptions } from './load.js';
