// What makes an HTTP API token usable: one that a client can send and that cannot be guessed.

/** Shorter tokens are refused: 16 random characters are out of reach of guessing over HTTP. */
export const MIN_TOKEN_LENGTH = 16;

/** Why a token (already trimmed) cannot serve, as the end of a sentence ("… is 9 characters long; …"); undefined when it can. Never quotes the token. */
export function tokenProblem(token: string): string | undefined {
  if (token === '') return 'is empty';
  if (!/^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(token)) {
    return 'holds a character other than printable ASCII (a control character, a line break, a letter beyond ASCII), which no HTTP client can send in a header';
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    return `is ${token.length} characters long; a token needs at least ${MIN_TOKEN_LENGTH} so that it cannot be guessed (make one with: openssl rand -hex 16)`;
  }
  return undefined;
}
