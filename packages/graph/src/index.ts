export type { GraphImage, ImageSpec, PathNodeAttributes, SharedGraph } from './types.js';
export { buildSharedGraph, hasImage, imageSetKey, imagesOf, noStoreLayer, referrersOf, type BuildGraphOptions } from './build.js';
export { graphFigures, type GraphFigures, type ImageFigures } from './figures.js';
