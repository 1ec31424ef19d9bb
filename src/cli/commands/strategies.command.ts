import type { CommandDefinition } from '../command';

export const STRATEGIES: CommandDefinition = {
  name: 'strategies',
  summary: 'list strategies and their parameters',
  help: `Usage: cli strategies [--json]

Lists the strategies with each parameter's type, default, allowed range and meaning.`,
  flags: { json: { type: 'boolean', default: false } },
  load: async () => (await import('./strategies.js')).strategiesCommand,
};
