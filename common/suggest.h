/*
 * "Did you mean ...?" for unknown keys, options and names: the closest
 * candidate by edit distance, when it is close enough to be a typo.
 */
#ifndef FD_SUGGEST_H
#define FD_SUGGEST_H

#include <stddef.h>

/* The candidate closest to word (Levenshtein distance at most 2, at most 1
 * for words of 3 characters or fewer, and less than the word's length), or
 * NULL when none is that close. */
const char *fd_suggest(const char *word, const char *const *candidates, size_t n);

#endif
