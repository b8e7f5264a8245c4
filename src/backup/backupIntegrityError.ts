/** A corrupt, missing or unreadable backup: no retry fixes it, the message names the object. */
export class BackupIntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupIntegrityError';
  }
}
