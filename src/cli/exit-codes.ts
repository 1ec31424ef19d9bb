/** Exit codes of every command (README "CLI"). */
export const EXIT = { ok: 0, failure: 1, invalidInput: 2, noData: 3 } as const;
