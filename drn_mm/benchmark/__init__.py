"""Side-by-side speed of segmentors and classifiers from configs (drn_mm's and OpenMMLab baselines).

``tools/benchmark.py`` is the command line; :func:`run_benchmark` measures, :func:`add_ratios`
relates every row to a baseline and :func:`write_outputs` writes JSON, markdown and a plot.
"""
from .flops import count_flops, count_macs, count_params, model_flops
from .measure import (BenchmarkSettings, Mode, default_settings, measure_inference,
                      measure_training, parse_mode, run_benchmark, time_calls)
from .models import build_model, calibrate_batchnorm, config_name, load_benchmark_config
from .published import PUBLISHED, Published, published
from .report import add_ratios, plot, to_markdown, write_outputs

__all__ = [
    'count_flops', 'count_macs', 'count_params', 'model_flops', 'BenchmarkSettings', 'Mode',
    'default_settings', 'measure_inference', 'measure_training', 'parse_mode', 'run_benchmark',
    'time_calls', 'build_model', 'calibrate_batchnorm', 'config_name',
    'load_benchmark_config', 'PUBLISHED', 'Published', 'published', 'add_ratios', 'plot',
    'to_markdown', 'write_outputs'
]
