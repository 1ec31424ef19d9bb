export {
  coerceFormValue,
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
export { getStrategy, listStrategies, resolveParams, type StrategyDefinition } from './registry';
export type { StrategyRunOptions, StrategySignals } from './signals';
export {
  buildSymbolResult,
  type EquityPoint,
  type SignalRecord,
  type SymbolResult,
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
  type VolumeLongCandleParams,
} from './volume-long-candle';
export {
  VOLUME_ZONE_BREAKOUT_PARAMS,
  volumeZoneBreakout,
  type VolumeZoneBreakoutParams,
} from './volume-zone-breakout';
