import { inSymbolOrder, runLane, SymbolQueue } from './symbol-queue';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a symbol in `delays[symbol]` ms (1 by default), logging lane:symbol; BAD* fail. */
function runner(lane: string, log: string[], delays: Record<string, number> = {}) {
  return async (symbol: string): Promise<string> => {
    log.push(`${lane}:${symbol}`);
    await tick(delays[symbol] ?? 1);
    if (symbol.startsWith('BAD')) throw new Error(`${symbol} is broken`);
    return `${symbol}!`;
  };
}

const asError = (error: unknown): Error => error as Error;

async function runOnTwoLanes(symbols: string[], delays: Record<string, number>, log: string[]) {
  const queue = new SymbolQueue(SymbolQueue.allocate(), symbols);
  const lanes = await Promise.all([
    runLane(queue, runner('main', log, delays), asError),
    runLane(queue, runner('thread', log, delays), asError),
  ]);
  return inSymbolOrder(lanes.flat());
}

describe('SymbolQueue and its lanes', () => {
  it('gives each free lane the next symbol, and the outcomes in the symbols’ order', async () => {
    const log: string[] = [];
    const outcomes = await runOnTwoLanes(['A', 'B', 'C', 'D'], { A: 30 }, log);
    expect(outcomes).toEqual(['A!', 'B!', 'C!', 'D!']);
    // While the main lane is busy with A, the other takes B, C and D in turn.
    expect(log).toEqual(['main:A', 'thread:B', 'thread:C', 'thread:D']);
  });

  it('throws the first failing symbol’s error in order; no lane takes a symbol after a failure', async () => {
    const log: string[] = [];
    // BAD2 fails first in time, BAD1 first in order.
    const run = runOnTwoLanes(['BAD1', 'BAD2', 'C', 'D'], { BAD1: 20 }, log);
    await expect(run).rejects.toThrow('BAD1 is broken');
    expect(log).toEqual(['main:BAD1', 'thread:BAD2']);
  });

  it('keeps the queue in shared memory: a second view of it takes where the first left off', () => {
    const shared = SymbolQueue.allocate();
    const here = new SymbolQueue(shared, ['A', 'B', 'C']);
    const there = new SymbolQueue(structuredClone(shared), ['A', 'B', 'C']);
    expect([here.take(), there.take(), here.take(), there.take()]).toEqual([0, 1, 2, undefined]);
    const fresh = SymbolQueue.allocate();
    new SymbolQueue(fresh, ['A', 'B']).fail();
    expect(new SymbolQueue(fresh, ['A', 'B']).take()).toBeUndefined();
  });
});
