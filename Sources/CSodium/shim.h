#ifndef LIENTHONG_CSODIUM_SHIM_H
#define LIENTHONG_CSODIUM_SHIM_H
#include <sodium.h>

// libsodium macros built from other macros do not import into Swift;
// re-export the ones SodiumKit needs as constants.
static const size_t lt_box_SEALBYTES = crypto_box_SEALBYTES;
static const size_t lt_box_PUBLICKEYBYTES = crypto_box_PUBLICKEYBYTES;
static const size_t lt_box_SECRETKEYBYTES = crypto_box_SECRETKEYBYTES;
static const size_t lt_sign_BYTES = crypto_sign_BYTES;
static const size_t lt_sign_PUBLICKEYBYTES = crypto_sign_PUBLICKEYBYTES;
static const size_t lt_sign_SECRETKEYBYTES = crypto_sign_SECRETKEYBYTES;
static const size_t lt_sign_SEEDBYTES = crypto_sign_SEEDBYTES;
static const size_t lt_ss_ABYTES = crypto_secretstream_xchacha20poly1305_ABYTES;
static const size_t lt_ss_HEADERBYTES = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
static const size_t lt_ss_KEYBYTES = crypto_secretstream_xchacha20poly1305_KEYBYTES;
static const unsigned char lt_ss_TAG_MESSAGE = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
static const unsigned char lt_ss_TAG_FINAL = crypto_secretstream_xchacha20poly1305_TAG_FINAL;
static const size_t lt_kx_PUBLICKEYBYTES = crypto_kx_PUBLICKEYBYTES;
static const size_t lt_kx_SECRETKEYBYTES = crypto_kx_SECRETKEYBYTES;
static const size_t lt_kx_SESSIONKEYBYTES = crypto_kx_SESSIONKEYBYTES;
static const size_t lt_generichash_BYTES_MAX = crypto_generichash_BYTES_MAX;

#endif
