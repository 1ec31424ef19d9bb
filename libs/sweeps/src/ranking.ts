import { Figure, getStrategy, PortfolioStats, ResolvedParams } from '@app/strategies';
import type { CombinationResult } from './evaluate-chunk';
import { combinationParams, SweepObjective, SweepPlan } from './sweep-request';
import { rankingWindowOf } from './windows';

/** A combination as `best`, `top` and the folds show it (what the sweep page reads). */
export interface RankedCombination {
  index: number;
  params: ResolvedParams;
  /** The objective's figure in the ranking window (null: undefined there). */
  score: Figure;
  /** The portfolio (§12) in the ranking window. */
  portfolio: PortfolioStats;
  /** holdout only: the portfolio in-sample (the ranking window) and out-of-sample. */
  in_sample?: PortfolioStats;
  out_of_sample?: PortfolioStats;
}

export interface WalkForwardFold {
  fold: number;
  /** The window the choice was made on, and the next one it was scored on. */
  in_sample_window: string;
  out_of_sample_window: string;
  index: number;
  params: ResolvedParams;
  in_sample_score: Figure;
  out_of_sample_score: Figure;
  in_sample: PortfolioStats;
  out_of_sample: PortfolioStats;
}

export type SweepValidationResult =
  | { method: 'none' }
  | {
      method: 'holdout';
      test_ratio: number;
      windows: Array<{ name: string; start_date: string; end_date: string }>;
      best_in_sample_score: Figure;
      best_out_of_sample_score: Figure;
    }
  | {
      method: 'walk_forward';
      windows: Array<{ name: string; start_date: string; end_date: string }>;
      folds: WalkForwardFold[];
      oos_total_return_pct: Figure;
      efficiency: Figure;
    };

export interface SweepOutcome {
  best: RankedCombination | null;
  top: RankedCombination[];
  validation: SweepValidationResult;
}

/**
 * The objective as ranked: a null `profit_factor` with at least one trade (no losing trade)
 * is +∞; any other null stays null and ranks last.
 */
function rankValue(portfolio: PortfolioStats, objective: SweepObjective): number | null {
  const value = portfolio[objective];
  if (value === null && objective === 'profit_factor' && (portfolio.trades ?? 0) >= 1) {
    return Number.POSITIVE_INFINITY;
  }
  return value;
}

/**
 * SPEC §13's ranking on one window: at least `min_trades` portfolio trades first, then the
 * objective highest first (null last), then `index`. Returns the indexes into `results`.
 */
export function rankOn(
  results: readonly CombinationResult[],
  window: string,
  objective: SweepObjective,
  minTrades: number,
): CombinationResult[] {
  const keyed = results.map((result) => {
    const portfolio = result.windows[window].portfolio;
    return {
      result,
      enough: (portfolio.trades ?? 0) >= minTrades ? 0 : 1,
      value: rankValue(portfolio, objective),
    };
  });
  keyed.sort((a, b) => {
    if (a.enough !== b.enough) return a.enough - b.enough;
    if (a.value !== b.value) {
      if (a.value === null) return 1;
      if (b.value === null) return -1;
      return b.value - a.value;
    }
    return a.result.index - b.result.index;
  });
  return keyed.map((entry) => entry.result);
}

/** best, top and validation of a finished sweep, from every combination's figures. */
export function summariseSweep(
  plan: SweepPlan,
  results: readonly CombinationResult[],
): SweepOutcome {
  const { request } = plan;
  const strategy = getStrategy(request.strategy)!;
  const { objective } = request;
  const rankingWindow = rankingWindowOf(request.validation);
  const describe = (result: CombinationResult, window: string): RankedCombination => {
    const portfolio = result.windows[window].portfolio;
    const entry: RankedCombination = {
      index: result.index,
      params: combinationParams(plan, strategy, result.index),
      score: portfolio[objective],
      portfolio,
    };
    if (request.validation.method === 'holdout') {
      entry.in_sample = result.windows.in_sample.portfolio;
      entry.out_of_sample = result.windows.out_of_sample.portfolio;
    }
    return entry;
  };
  const ranked = rankOn(results, rankingWindow, objective, request.min_trades);
  const top = ranked.slice(0, request.top).map((result) => describe(result, rankingWindow));
  const best = top[0] ?? null;
  const windows = plan.windows.map(({ name, start_date, end_date }) => ({
    name,
    start_date,
    end_date,
  }));

  let validation: SweepValidationResult;
  if (request.validation.method === 'none') {
    validation = { method: 'none' };
  } else if (request.validation.method === 'holdout') {
    validation = {
      method: 'holdout',
      test_ratio: request.validation.test_ratio,
      windows,
      best_in_sample_score: best?.in_sample?.[objective] ?? null,
      best_out_of_sample_score: best?.out_of_sample?.[objective] ?? null,
    };
  } else {
    const folds: WalkForwardFold[] = [];
    for (let f = 1; f <= request.validation.folds; f++) {
      const inWindow = `fold_${f}`;
      const outWindow = `fold_${f + 1}`;
      const choice = rankOn(results, inWindow, objective, request.min_trades)[0];
      const inSample = choice.windows[inWindow].portfolio;
      const outOfSample = choice.windows[outWindow].portfolio;
      folds.push({
        fold: f,
        in_sample_window: inWindow,
        out_of_sample_window: outWindow,
        index: choice.index,
        params: combinationParams(plan, strategy, choice.index),
        in_sample_score: inSample[objective],
        out_of_sample_score: outOfSample[objective],
        in_sample: inSample,
        out_of_sample: outOfSample,
      });
    }
    validation = {
      method: 'walk_forward',
      windows,
      folds,
      oos_total_return_pct: compoundedReturnPct(
        folds.map((fold) => fold.out_of_sample.total_return_pct),
      ),
      efficiency: walkForwardEfficiency(folds),
    };
  }
  return { best, top, validation };
}

/** The out-of-sample folds compounded: (Π (1 + R_f/100) − 1)·100; null if any R_f is. */
export function compoundedReturnPct(returns: readonly Figure[]): Figure {
  let equity = 1;
  for (const value of returns) {
    if (value === null) return null;
    equity *= 1 + value / 100;
  }
  const result = (equity - 1) * 100;
  return Number.isFinite(result) ? result : null;
}

/**
 * Mean over the folds of out-of-sample / in-sample objective, over the folds whose in-sample
 * objective is > 0 and whose out-of-sample objective is defined; null if there is none.
 */
export function walkForwardEfficiency(folds: readonly WalkForwardFold[]): Figure {
  let sum = 0;
  let count = 0;
  for (const fold of folds) {
    const inSample = fold.in_sample_score;
    const outOfSample = fold.out_of_sample_score;
    if (inSample === null || !(inSample > 0) || outOfSample === null) continue;
    sum += outOfSample / inSample;
    count++;
  }
  if (count === 0) return null;
  const mean = sum / count;
  return Number.isFinite(mean) ? mean : null;
}
