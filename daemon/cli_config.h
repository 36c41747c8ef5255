/* streamspaced config check: validate a plugin's config against its schema. */
#ifndef SS_CLI_CONFIG_H
#define SS_CLI_CONFIG_H

/* argv[0] is "config"; returns the exit status (0 valid, 1 invalid, 2 unusable). */
int cli_config(int argc, char **argv);

#endif
