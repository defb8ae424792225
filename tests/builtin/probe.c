/*
 * A drill designer's probe (not a test): runs a scenario file and prints,
 * per window, the latency and errors of endpoints and the value of metrics,
 * to tune a fixture's numbers.
 *
 *   probe FILE.yaml WINDOW_S 'gateway POST /checkout' ... -m 'metric[|filter]' ... -l 'log text'
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/builtin/observe.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: probe FILE.yaml WINDOW_S [KEY...] [-m METRIC[|FILTER]...] [-l TEXT...]\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return 2;
	static char text[1 << 20];
	size_t len = fread(text, 1, sizeof(text), f);
	fclose(f);
	double win = atof(argv[2]);
	const char *keys[32], *mets[32], *filt[32], *logs[32];
	const char *names[33];
	int nk = 0, nm = 0, nl = 0;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "-m") && i + 1 < argc) {
			char *m = argv[++i];
			char *bar = strchr(m, '|');
			if (bar)
				*bar = '\0';
			mets[nm] = m;
			filt[nm] = bar ? bar + 1 : NULL;
			names[nm] = m;
			nm++;
		} else if (!strcmp(argv[i], "-l") && i + 1 < argc) {
			logs[nl++] = argv[++i];
		} else {
			keys[nk++] = argv[i];
		}
	}
	names[nm] = NULL;
	struct obs o;
	if (obs_run_text(&o, argv[1], text, len, 0, names) < 0)
		return 1;
	double end = 0;
	for (size_t i = 0; i < o.n_reqs; i++)
		if (o.reqs[i].t_ms / 1000.0 > end)
			end = o.reqs[i].t_ms / 1000.0;
	for (double t = 0; t < end; t += win) {
		printf("%5.0fm", t / 60);
		for (int k = 0; k < nk; k++) {
			struct obs_stats s = obs_window(&o, keys[k], t, t + win, NULL);
			printf(" | n%5zu p50 %7.1f p95 %7.1f p99 %7.1f err %5.2f%%", s.n, s.p50 * 1e3,
			       s.p95 * 1e3, s.p99 * 1e3, s.error_rate * 100);
		}
		for (int m = 0; m < nm; m++)
			printf(" | %.3g", obs_metric(&o, mets[m], filt[m], t, t + win, OBS_MEAN));
		for (int l = 0; l < nl; l++)
			printf(" | %zu", obs_logs(&o, NULL, logs[l], t, t + win));
		printf("\n");
	}
	for (size_t i = 0; i < o.n_figs; i++)
		printf("fig %s | %s | %s = %.4g\n", o.figs[i].name, o.figs[i].subject, o.figs[i].phase,
		       o.figs[i].value);
	printf("keys:");
	for (size_t i = 0; i < o.n_keys; i++)
		printf(" [%s]", o.keys[i]);
	printf("\ndecode errors %d\n", o.decode_errors);
	obs_free(&o);
	return 0;
}
