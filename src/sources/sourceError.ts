/**
 * A source that cannot be read as configured: an unknown connection, a missing bucket, refused
 * credentials, a query PostgreSQL rejects. No retry fixes it; the message names the connection
 * (never its secret) so an operator knows where to look.
 */
export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}
