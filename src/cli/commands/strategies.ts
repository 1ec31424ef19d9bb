import { listStrategies } from '@app/strategies';
import { FlagValues } from '../args';

export function strategiesCommand(flags: FlagValues): number {
  const strategies = listStrategies();
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify(
        strategies.map(({ name, description, params }) => ({ name, description, params })),
        null,
        2,
      )}\n`,
    );
    return 0;
  }
  for (const strategy of strategies) {
    process.stdout.write(`${strategy.name}\n  ${strategy.description}\n`);
    for (const param of strategy.params) {
      const range = param.type === 'bool' ? 'true|false' : `${param.min ?? ''}..${param.max ?? ''}`;
      process.stdout.write(
        `    ${param.name.padEnd(18)} ${param.type.padEnd(5)} default ${String(param.default).padEnd(6)} ${range.padEnd(12)} ${param.description}\n`,
      );
    }
  }
  return 0;
}
