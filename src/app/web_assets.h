/* web_assets.h — the web app's files, embedded in the binary at build time
 * (scripts/embed-web.py writes build/gen/web_assets.c from web/dist), so
 * the one binary serves its own UI with nothing to install beside it. */
#ifndef APP_WEB_ASSETS_H
#define APP_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;	  /* "/index.html", "/assets/index-Diby8br3.js" */
	const char *type;	  /* Content-Type */
	const char *etag;	  /* "\"<hash>\"" */
	int immutable;		  /* a content-hashed name: cacheable for a year */
	const unsigned char *body;
	size_t len;
	const unsigned char *gz; /* gzip of body, or NULL when it does not pay */
	size_t gzlen;
};

extern const struct web_asset web_assets[];
extern const size_t web_nassets;

#endif
