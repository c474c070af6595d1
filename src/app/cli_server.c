#include <stdio.h>

#include "cli.h"

int cli_init(int argc, char **argv) { fprintf(stderr, "todo\n"); return 1; }
int cli_serve(int argc, char **argv) { fprintf(stderr, "todo\n"); return 1; }
int cli_migrate(int argc, char **argv) { fprintf(stderr, "todo\n"); return 1; }
int cli_import(int argc, char **argv) { fprintf(stderr, "todo\n"); return 1; }
int cli_export(int argc, char **argv) { fprintf(stderr, "todo\n"); return 1; }
