export {
  coerceFormValue,
  FORM_DECIMAL_PATTERN,
  describeAllowedValues,
  isAllowedValue,
  type ParamsOf,
  type ParamSpec,
  type ParamType,
  type ParamValue,
  type ResolvedParams,
} from './params';
export {
  DEFAULT_EXECUTION,
  EXECUTION_PARAMS,
  resolveExecution,
  type ExecutionSettings,
  type PositionMode,
} from './execution';
export {
  getStrategy,
  listStrategies,
  resolveParams,
  type StrategyDefinition,
  type StrategyGrid,
} from './registry';
export type { StrategyRunOptions, StrategySignals } from './signals';
export { computeBarEquity, type BarEquityTrades } from './bar-equity';
export {
  computePortfolio,
  portfolioEquity,
  portfolioMemberOf,
  rebuildPortfolioMember,
  type EquitySeries,
  type PortfolioMember,
  type PortfolioStats,
  type StoredTrade,
} from './portfolio';
export {
  accountStatistics,
  calendarOfTimeframe,
  computeSymbolStats,
  type AccountStatistics,
  type Figure,
  type StatsCalendar,
  type SymbolStats,
  type TradeStatistics,
} from './statistics';
export {
  buildSymbolResult,
  evaluateSymbol,
  type EquityPoint,
  type EvaluateOptions,
  type SignalRecord,
  type SymbolEvaluation,
  type SymbolResult,
  type SymbolRun,
} from './symbol-result';
export {
  computeEquityCurve,
  computeMetrics,
  computeTrades,
  type TradeMetrics,
  type Trades,
} from './trades';
export {
  VOLUME_LONG_CANDLE_PARAMS,
  volumeLongCandle,
  VolumeLongCandleGrid,
  type VolumeLongCandleParams,
} from './volume-long-candle';
export {
  VOLUME_ZONE_BREAKOUT_PARAMS,
  volumeZoneBreakout,
  type VolumeZoneBreakoutParams,
} from './volume-zone-breakout';
