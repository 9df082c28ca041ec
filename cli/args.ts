/** The command line's small grammar: `--flag value` or `--flag=value`, each flag at most once. */

/** A command line that cannot be run as given; the message says what to change. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Reads `--name value` pairs; throws UsageError for an unknown, repeated or valueless flag, or a stray word. */
export function parseFlags(argv: readonly string[], known: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new UsageError(`unexpected "${arg}": options are written --name value`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!known.includes(name)) throw new UsageError(`unknown option --${name} (known: ${known.map((k) => `--${k}`).join(', ')})`);
    if (flags.has(name)) throw new UsageError(`--${name} is given twice`);
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    flags.set(name, value);
  }
  return flags;
}
