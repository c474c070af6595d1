#!/bin/sh
# Refuses functions that are easy to misuse (STYLE §12), like curl's checksrc
# and git's banned.h. Run by the build before linking.
pattern='\b(strcpy|strcat|sprintf|vsprintf|strtok|gmtime|localtime|atoi|gets)[[:space:]]*\('
if grep -rnE "$pattern" src tests/unit tests/fuzz --include='*.c' --include='*.h' | grep -v 'check-banned: ok'; then
	echo "banned function used (see scripts/check-banned.sh): use snprintf, strtok_r, gmtime_r, strtol, struct buf" >&2
	exit 1
fi
exit 0
