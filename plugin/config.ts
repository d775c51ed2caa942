/** Plugin configuration: validated against the JSON Schema declared in manifest.json, defaults filled in. */
import { Ajv } from 'ajv';
import { manifest } from './manifest.js';

export interface PluginConfig {
  db_url?: string;
  migrate_on_start: boolean;
  symbols: string[];
  strict_bars: boolean;
}

const validate = new Ajv({ useDefaults: true, allErrors: true }).compile(manifest.contributes.configuration);

/** Returns a complete configuration, or throws one error listing every invalid field by name. */
export function resolveConfig(input: Partial<PluginConfig> = {}): PluginConfig {
  const config = structuredClone(input) as Record<string, unknown>;
  if (!validate(config)) {
    const problems = (validate.errors ?? []).map((e) => {
      const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : String(e.params.additionalProperty ?? '(root)');
      return `${field}: ${e.message}`;
    });
    throw new Error(`invalid lstm-signals configuration: ${problems.join('; ')}`);
  }
  return config as unknown as PluginConfig;
}
