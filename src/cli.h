/* cli.h — the subcommands of the cairn binary.
 *
 * Each returns the process exit status: 0 success, 1 failure (message on
 * stderr), 2 usage error (usage on stderr). argv[0] is the subcommand name. */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

int cli_init(int argc, char **argv);	 /* src/app/cli_server.c */
int cli_serve(int argc, char **argv);	 /* src/app/cli_server.c */
int cli_migrate(int argc, char **argv);	 /* src/app/cli_server.c */
int cli_import(int argc, char **argv);	 /* src/ingest/ingest_cli.c */
int cli_export(int argc, char **argv);	 /* src/ingest/ingest_cli.c */
int cli_template(int argc, char **argv); /* src/template/tpl_cli.c */
int cli_rebuild(int argc, char **argv);	 /* src/engine/rebuild_cli.c */
int cli_journey(int argc, char **argv);
int cli_messages(int argc, char **argv);	 /* src/deliver/deliver_cli.c */
int cli_examples(int argc, char **argv);	 /* src/app/examples_cli.c */

#endif
