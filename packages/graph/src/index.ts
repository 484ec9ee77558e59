export type { GraphImage, ImageSpec, PathNodeAttributes, SharedGraph } from './types.js';
export { buildSharedGraph, findImage, hasImage, imageSetKey, imagesOf, noStoreLayer, referrersOf, unknownImage, type BuildGraphOptions } from './build.js';
export { graphFigures, type GraphFigures, type ImageFigures } from './figures.js';
