/*
 * Verbs whose implementation belongs to a later issue. They already parse
 * --help (so the documented interface can be read and linted) and otherwise
 * say plainly that they are not built yet, with exit status 2: never fake
 * output.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *planned_in(const char *verb)
{
	if (!strcmp(verb, "list") || !strcmp(verb, "validate") || !strcmp(verb, "generate"))
		return "issue #3 (Generator)";
	if (!strcmp(verb, "replay"))
		return "issue #5 (Replay)";
	if (!strcmp(verb, "record"))
		return "issue #7 (Record)";
	return "a later issue";
}

int cmd_planned(const struct verb *v, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(v->usage, stdout);
			return 0;
		}
	}
	fprintf(stderr, "firedrill %s: not implemented yet (planned in %s)\n", v->name,
		planned_in(v->name));
	return EXIT_USAGE;
}
