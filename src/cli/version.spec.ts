import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageVersion } from './version';

describe('packageVersion', () => {
  it("is package.json's version", () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
      version: string;
    };
    expect(packageVersion()).toBe(version);
  });

  it('fails with a message when no package.json is above the folder', () => {
    expect(() => packageVersion('/')).toThrow('no package.json above /');
  });
});
