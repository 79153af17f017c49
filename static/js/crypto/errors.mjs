// Exception tree, mirroring opencmk_crypto (Python):
//   CryptoError > StatementError | SealError | PassphraseError
// Messages never contain key material, plaintext or passphrases.
export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}
export class StatementError extends CryptoError {}
export class SealError extends CryptoError {}
export class PassphraseError extends CryptoError {}
