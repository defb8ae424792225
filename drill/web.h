/*
 * The console page, compiled into the binary (drill/web/console.html,
 * embedded by drill/web/embed.py). The same page is the live console (it
 * polls the control API) and the static report of `inspect --html` (the
 * data is put in place of its FD_WEB_STATIC_MARK comment).
 */
#ifndef FD_DRILL_WEB_H
#define FD_DRILL_WEB_H

#include <stddef.h>

extern const char fd_web_console_html[]; /* NUL-terminated */
extern const size_t fd_web_console_html_len;

/* Where a static page's data goes: replace it with
 * "window.FD_STATIC = {...};". */
#define FD_WEB_STATIC_MARK "/*FD_STATIC*/"

#endif
