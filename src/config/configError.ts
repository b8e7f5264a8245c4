/** A setting the operator got wrong: the message names the variable, field or connection, never a secret. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
