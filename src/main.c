/* main.c — the cairn binary: one table of subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"init", cli_init, "create a store with a default workspace, keys and an owner login"},
	{"serve", cli_serve, "run the HTTP server and the engine"},
	{"migrate", cli_migrate, "bring the store's schema up to date"},
	{"import", cli_import, "import users (CSV, NDJSON) or events (NDJSON)"},
	{"export", cli_export, "export users or events as NDJSON or CSV"},
	{"template", cli_template, "render or validate a Liquid template (template render|validate)"},
	{"journey", cli_journey, "validate, simulate, graph a journey; check saved simulations (journey --help)"},
	{"examples", cli_examples, "list or load a shipped example: examples list | examples load NAME"},
	{"messages", cli_messages, "list, show and replay messages: dead letters (messages --help)"},
	{"rebuild", cli_rebuild, "rebuild --check: compare the derived state with a replay of the event log"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
	fprintf(f, "usage: cairn COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-10s %s\n", "help", "this text; 'cairn COMMAND --help' for a command's options");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		if (argc > 2) {
			for (size_t i = 0; i < NCOMMANDS; i++) {
				if (!strcmp(commands[i].name, argv[2])) {
					char help[] = "--help";
					char *av[] = {argv[2], help, NULL};
					return commands[i].run(2, av);
				}
			}
		}
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, cmd))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "cairn: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 2;
}
