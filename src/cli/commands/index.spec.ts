import { COMMANDS } from './index';

describe('the command definitions', () => {
  it.each(COMMANDS.map((command) => [command.name, command] as const))(
    '%s documents every flag it accepts in its --help',
    (name, command) => {
      expect(command.help.startsWith(`Usage: cli ${name}`)).toBe(true);
      for (const flag of Object.keys(command.flags)) expect(command.help).toContain(`--${flag}`);
    },
  );

  it('has one definition per name, and each says what its required flags expect', () => {
    const names = COMMANDS.map((command) => command.name);
    expect(new Set(names).size).toBe(names.length);
    for (const command of COMMANDS) {
      for (const [flag, definition] of Object.entries(command.flags)) {
        if (definition.required)
          expect({ flag, expects: definition.expects }).toEqual({
            flag,
            expects: expect.any(String),
          });
      }
    }
  });
});
