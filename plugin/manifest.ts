/** The plugin descriptor, loaded once from manifest.json: the single source of declared events, routes and config schema. */
import manifestJson from '../manifest.json' with { type: 'json' };

export type Manifest = typeof manifestJson;
export const manifest: Manifest = manifestJson;
