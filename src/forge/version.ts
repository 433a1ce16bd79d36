/**
 * Bumped whenever forged bytes change for a given seed (weights, graph structure,
 * JSON files), so cached models from an older forge are never reused.
 */
export const FORGE_VERSION = 2;
