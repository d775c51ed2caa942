/** `--config FILE`: plugin configuration as JSON (the keys of manifest.json's configuration schema). */
import { readFile } from 'node:fs/promises';
import type { PluginConfigInput } from '../../plugin/index.js';

export async function readConfigFile(file: string | undefined): Promise<PluginConfigInput> {
  if (!file) return {};
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as PluginConfigInput;
  } catch (error) {
    throw new Error(`--config: ${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
