/* Scenario parser: any bytes give a model or a positioned error. */
#include "common/error.h"
#include "fuzz/fuzz.h"
#include "generator/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	if (fd_scenario_parse("fuzz.yaml", (const char *)data, size, &sc, &err) == 0)
		fd_scenario_destroy(sc);
	return 0;
}
