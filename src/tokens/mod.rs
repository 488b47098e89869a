//! Signing keys and the tokens made with them: the key ring shared by every replica (stored in the
//! durable store, private halves encrypted with the key-encryption key), JWT signing and checking.

pub mod jwt;
pub mod kek;
pub mod keyring;
pub mod keys;

pub use keyring::KeyRing;
pub use keys::SigningAlg;
