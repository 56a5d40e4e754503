// The error for input that is well-formed but wrong in meaning: a hand-made
// record, a lookup, a DNSDock service. The API answers it with a 400 that
// names the field.

/** Which field, and why. */
export class InputError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
