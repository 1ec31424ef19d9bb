import { availableParallelism } from 'node:os';
import { workerThreadsFor } from './backtest.command';

describe('workerThreadsFor', () => {
  it('is one fewer than the symbols run at once: --threads, or the CPUs, and no more than the symbols', () => {
    expect(workerThreadsFor({ threads: '4', symbols: 'A_B,C_D,E_F' })).toBe(2);
    expect(workerThreadsFor({ threads: '2', symbols: 'A_B,C_D,E_F' })).toBe(1);
    expect(workerThreadsFor({ threads: '1', symbols: 'A_B,C_D' })).toBe(0);
    expect(workerThreadsFor({ symbols: 'A_1,A_2,A_3,A_4,A_5,A_6,A_7,A_8,A_9' })).toBe(
      Math.min(availableParallelism(), 9) - 1,
    );
  });

  it('counts symbols as the request will (case and spaces aside, once each) and starts none for bad input', () => {
    expect(workerThreadsFor({ threads: '8', symbols: 'eth_btc, ETH_BTC ,LTC_BTC,' })).toBe(1);
    expect(workerThreadsFor({ threads: 'many', symbols: 'A_B,C_D' })).toBe(0);
    expect(workerThreadsFor({ threads: '4' })).toBe(0);
  });
});
