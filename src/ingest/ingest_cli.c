/* ingest_cli.c — `cairn import` and `cairn export` (placeholder). */
#include <stdio.h>

#include "cli.h"

int cli_import(int argc, char **argv)
{
	fprintf(stderr, "cairn import: not available yet\n");
	return 1;
}

int cli_export(int argc, char **argv)
{
	fprintf(stderr, "cairn export: not available yet\n");
	return 1;
}
