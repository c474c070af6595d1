/* secret.c — the installation key and secretbox sealing (see secret.h). */
#include "deliver/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xalloc.h"

static unsigned char key[DLV_SECRET_KEY_BYTES];
static int ready;

static int from_env(const char *v)
{
	size_t n = strlen(v);
	size_t bin_len = 0;
	if (n == 2 * DLV_SECRET_KEY_BYTES && sodium_hex2bin(key, sizeof key, v, n, NULL, &bin_len, NULL) == 0 &&
	    bin_len == sizeof key)
		return 0;
	/* a passphrase: hashed to the key */
	crypto_generichash(key, sizeof key, (const unsigned char *)v, n, (const unsigned char *)"cairn-secret", 12);
	return 0;
}

int dlv_secret_init(const char *data_dir, struct cairn_err *err)
{
	if (sodium_init() < 0)
		return cairn_err_set(err, CAIRN_EIO, "crypto_unavailable", "", "libsodium could not start.");
	const char *env = getenv("CAIRN_SECRET_KEY");
	if (env && *env) {
		from_env(env);
		ready = 1;
		return 0;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/secret.key", data_dir ? data_dir : ".");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		unsigned char fresh[DLV_SECRET_KEY_BYTES];
		randombytes_buf(fresh, sizeof fresh);
		char tmp[4200];
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		int w = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int ok = w >= 0 && write(w, fresh, sizeof fresh) == (ssize_t)sizeof fresh && fsync(w) == 0;
		if (w >= 0)
			close(w);
		/* link() fails if another process made the key meanwhile: then use theirs */
		if (ok && link(tmp, path) != 0 && errno != EEXIST)
			ok = 0;
		unlink(tmp);
		sodium_memzero(fresh, sizeof fresh);
		if (!ok)
			return cairn_err_set(err, CAIRN_EIO, "secret_key_unwritable", "",
					     "Cannot create %s (%s); set CAIRN_SECRET_KEY or fix the data directory's "
					     "permissions.",
					     path, strerror(errno));
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return cairn_err_set(err, CAIRN_EIO, "secret_key_unreadable", "", "Cannot read %s (%s).", path,
				     strerror(errno));
	ssize_t n = read(fd, key, sizeof key);
	close(fd);
	if (n != (ssize_t)sizeof key)
		return cairn_err_set(err, CAIRN_EINVAL, "secret_key_invalid", "",
				     "%s must hold exactly %d bytes; restore it from a backup (without it the "
				     "stored provider secrets cannot be read).",
				     path, DLV_SECRET_KEY_BYTES);
	ready = 1;
	return 0;
}

int dlv_secret_ready(void)
{
	return ready;
}

void dlv_seal(const void *plain, size_t len, unsigned char **out, size_t *out_len)
{
	size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
	unsigned char *b = xmalloc(n);
	randombytes_buf(b, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(b + crypto_secretbox_NONCEBYTES, plain, len, b, key);
	*out = b;
	*out_len = n;
}

int dlv_unseal(const unsigned char *sealed, size_t sealed_len, char **plain, size_t *len, struct cairn_err *err)
{
	*plain = NULL;
	*len = 0;
	if (sealed_len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return cairn_err_set(err, CAIRN_EIO, "secret_unreadable", "", "A stored secret is damaged.");
	size_t n = sealed_len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
	char *p = xmalloc(n + 1);
	if (crypto_secretbox_open_easy((unsigned char *)p, sealed + crypto_secretbox_NONCEBYTES,
				       sealed_len - crypto_secretbox_NONCEBYTES, sealed, key) != 0) {
		free(p);
		return cairn_err_set(err, CAIRN_EIO, "secret_unreadable", "",
				     "A stored secret does not open with this installation's key (secret.key or "
				     "CAIRN_SECRET_KEY changed?); enter the secret again.");
	}
	p[n] = '\0';
	*plain = p;
	*len = n;
	return 0;
}

void dlv_secret_derive(const char *purpose, unsigned char out[DLV_SECRET_KEY_BYTES])
{
	crypto_generichash(out, DLV_SECRET_KEY_BYTES, (const unsigned char *)purpose, strlen(purpose), key, sizeof key);
}
