#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int fd_error_set(struct fd_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return -code;
}

int fd_error_prefix(struct fd_error *err, const char *fmt, ...)
{
	if (!err)
		return -FD_ERUNTIME;
	char prefix[512];
	char old[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the start of the message matters most. */
	size_t n = strlen(prefix);
	if (n > sizeof(err->msg) - 3)
		n = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t rest = sizeof(err->msg) - n - 3;
	size_t m = strnlen(old, rest);
	memcpy(err->msg + n + 2, old, m);
	err->msg[n + 2 + m] = '\0';
	if (err->code == 0)
		err->code = FD_ERUNTIME;
	return -err->code;
}

void fd_error_clear(struct fd_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}
