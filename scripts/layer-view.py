#!/usr/bin/env python3
"""Builds the include views that make the build enforce the layers.

Every layer is compiled with one include root: build/layers/LAYER/, which
holds a symlink to the source folder of the layer itself and of each layer
below it, and nothing else. `#include "sinks/sink.h"` from otlp/ then fails
to compile, because otlp's view has no sinks/. docs/architecture.md draws
the layers.

usage: layer-view.py SOURCE_ROOT VIEWS_DIR CONFIG_H LEVEL [LEVEL...]
where each LEVEL is a comma-separated list of the layers at that level,
bottom first. A layer sees the layers of every lower level, not its peers,
and the generated CONFIG_H (fd_config.h).
"""
import os
import shutil
import sys

src, views, config_h = sys.argv[1], sys.argv[2], sys.argv[3]
levels = [lv.split(",") for lv in sys.argv[4:]]
if os.path.isdir(views):
    shutil.rmtree(views)
below = []
for level in levels:
    for layer in level:
        d = os.path.join(views, layer)
        os.makedirs(d)
        for seen in below + [layer]:
            os.symlink(os.path.join(src, seen), os.path.join(d, seen))
        os.symlink(config_h, os.path.join(d, os.path.basename(config_h)))
    below += level
