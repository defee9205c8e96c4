/// The only file that includes <sodium.h> (Debian's libsodium-dev). chatd calls only functions
/// (crypto_pwhash_str, crypto_pwhash_str_verify, crypto_generichash, sodium_memcmp), none of
/// them macros, so no wrappers are needed. No logic lives in this file.
#ifndef CSODIUM_SHIM_H
#define CSODIUM_SHIM_H

#include <sodium.h>

#endif
