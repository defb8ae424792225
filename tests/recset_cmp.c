/*
 * recset-cmp A.fdr B.fdr [--canonical]: exit 0 when the two recordings hold
 * the same set of records (tests/support/recset.h), 1 when they differ (the
 * first difference on stderr), 2 on bad usage. For the end-to-end record
 * tests, which compare a generated recording with one recorded back.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tests/support/recset.h"

int main(int argc, char **argv)
{
	bool canonical = argc == 4 && !strcmp(argv[3], "--canonical");
	if (argc != 3 && !canonical) {
		fprintf(stderr, "Usage: recset-cmp A.fdr B.fdr [--canonical]\n");
		return 2;
	}
	struct recset a, b;
	if (recset_load(argv[1], canonical, &a) < 0)
		return 1;
	if (recset_load(argv[2], canonical, &b) < 0) {
		recset_free(&a);
		return 1;
	}
	int rc = recset_compare(&a, &b);
	if (rc == 0)
		printf("same %zu records\n", a.n);
	recset_free(&a);
	recset_free(&b);
	return rc == 0 ? 0 : 1;
}
