/**
 * The shape of one `heed` subcommand. main.ts keeps the table of commands; each
 * command file implements this interface, so the commands depend only on this file
 * and never on main.ts (which imports them).
 */
export interface Command {
  /** One line for `heed --help`. */
  summary: string;
  /** The usage line for `heed <command> --help`. */
  usage: string;
  /** Runs the command on its arguments (without the command name); resolves to the exit code. */
  run(args: string[]): Promise<number>;
}
