/* Placeholder until the Liquid engine lands: `cairn template render`. */
#include <stdio.h>

#include "cli.h"

int cli_template(int argc, char **argv)
{
	fprintf(stderr, "cairn template: not built yet\n");
	return 1;
}
