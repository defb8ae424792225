#include "common/suggest.h"

#include <stdint.h>
#include <string.h>

/* Edit distance, capped: only small distances matter for suggestions. */
static size_t levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return SIZE_MAX;
	size_t row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = diag + cost;
			if (up + 1 < v)
				v = up + 1;
			if (row[j - 1] + 1 < v)
				v = row[j - 1] + 1;
			row[j] = v;
			diag = up;
		}
	}
	return row[lb];
}

const char *fd_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	size_t len = strlen(word);
	/* Two edits cover a typo or a swap; short words allow fewer, or
	 * everything would look like everything. */
	size_t limit = len <= 3 ? 1 : 2;
	for (size_t i = 0; i < n; i++) {
		size_t d = levenshtein(word, cands[i]);
		if (d <= limit && d < best_d && d < len) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}
