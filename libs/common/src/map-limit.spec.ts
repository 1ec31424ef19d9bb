import { mapLimit } from './map-limit';

describe('mapLimit', () => {
  it('keeps the order and never runs more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapLimit(
      Array.from({ length: 50 }, (_, i) => i),
      4,
      async (item) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, (item * 7) % 5));
        running--;
        return item * 2;
      },
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(peak).toBe(4);
  });

  it('passes a rejection on', async () => {
    await expect(
      mapLimit([1, 2, 3], 2, (item) =>
        item === 2 ? Promise.reject(new Error('two')) : Promise.resolve(item),
      ),
    ).rejects.toThrow('two');
  });
});
