#include "core/slug.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int slug_valid(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (i > 0 && (ch == '-' || ch == '_'));
		if (!ok)
			return 0;
	}
	return 1;
}

void slug_from_name(const char *name, const char *fallback, char *out, size_t n)
{
	size_t len = 0;
	int dash = 0;
	for (const char *p = name; *p && len + 1 < n && len < 48; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && len)
				out[len++] = '-';
			dash = 0;
			if (len + 1 < n)
				out[len++] = c;
		} else {
			dash = 1;
		}
	}
	out[len] = '\0';
	if (!len)
		snprintf(out, n, "%s", fallback);
}

void slug_add_suffix(char *id, size_t n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t len = strlen(id);
	if (len + 8 > n)
		len = n - 8;
	id[len++] = '-';
	for (int i = 0; i < 6; i++)
		id[len++] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
	id[len] = '\0';
}
