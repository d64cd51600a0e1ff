// The one shell quoting: words that go into a command a person copies (reproduce lines) or a shell runs.

const SAFE_WORD = /^[\w@%+=:,./-]+$/;

/** Quotes one word for a POSIX shell: safe words stay as they are, anything else in single quotes. */
export function shq(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one copy-pasteable command line. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shq).join(' ');
}
