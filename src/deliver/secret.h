/* secret.h — provider secrets and DKIM keys sealed at rest.
 *
 * One 32-byte key per installation, from CAIRN_SECRET_KEY (64 hex digits,
 * or any passphrase, hashed) or else the file <data>/secret.key, made on
 * first use with mode 0600. Secrets are sealed with libsodium's secretbox
 * (XSalsa20-Poly1305): a fresh random nonce, then the ciphertext. The key
 * never enters the store, so a copy of state.db alone reveals no password.
 * Tracking links are signed with a key derived from it (dlv_secret_derive).
 *
 *   dlv_secret_init(data dir) ── once per process, before any seal/open
 *   dlv_seal(plain) ──► nonce ‖ box        dlv_unseal(nonce ‖ box) ──► plain
 *
 * Thread-safe after dlv_secret_init. Errors follow core/err.h. */
#ifndef DELIVER_SECRET_H
#define DELIVER_SECRET_H

#include <stddef.h>

#include "core/err.h"

#define DLV_SECRET_KEY_BYTES 32

/* Loads (or creates) the key. CAIRN_EIO when the file cannot be read or
 * made, CAIRN_EINVAL for a secret.key of the wrong size. */
int dlv_secret_init(const char *data_dir, struct cairn_err *err);
/* 1 once dlv_secret_init succeeded. */
int dlv_secret_ready(void);

/* Seals len bytes. OUT: *out (malloc'd), *out_len. */
void dlv_seal(const void *plain, size_t len, unsigned char **out, size_t *out_len);
/* Opens a sealed blob. OUT: *plain (malloc'd, NUL-terminated), *len.
 * CAIRN_EIO (slug secret_unreadable) when it does not open: another
 * installation's key, or damage. */
int dlv_unseal(const unsigned char *sealed, size_t sealed_len, char **plain, size_t *len, struct cairn_err *err);

/* A subkey for one purpose ("links"), 32 bytes. */
void dlv_secret_derive(const char *purpose, unsigned char out[DLV_SECRET_KEY_BYTES]);

#endif
