/** One sample of a Prometheus text exposition: metric name, labels, value. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the sample lines of a /metrics answer (comments and blank lines skipped). */
export function parsePrometheusText(text: string): PrometheusSample[] {
  return text.split('\n').flatMap((line) => {
    const match = SAMPLE_LINE.exec(line);
    if (!match || line.startsWith('#')) return [];
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[key] = value;
    return [{ name: match[1], labels, value: Number(match[3]) }];
  });
}

/** The samples of `name` whose labels include every label of `where`. */
export function samplesOf(
  samples: PrometheusSample[],
  name: string,
  where: Record<string, string> = {},
): PrometheusSample[] {
  return samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(where).every(([key, value]) => sample.labels[key] === value),
  );
}

/** The sum of the values of `name` whose labels include `where` (0 when there are none). */
export function sumOf(
  samples: PrometheusSample[],
  name: string,
  where: Record<string, string> = {},
): number {
  return samplesOf(samples, name, where).reduce((sum, sample) => sum + sample.value, 0);
}
