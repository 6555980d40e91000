"""Side-by-side speed of segmentors and classifiers from configs (drn_mm's and OpenMMLab baselines).

``tools/benchmark.py`` is the command line; :func:`run_benchmark` measures, :func:`add_ratios`
relates every row to a baseline (and checks speed targets) and :func:`write_outputs` writes JSON,
markdown and a plot. One concern a module: ``settings`` (modes, what to measure), ``timing``,
``inputs``, ``inference``, ``training``, ``runner_loop`` (the whole Runner of tools/train.py),
``flops``, ``run`` (the orchestration), ``published`` (numbers from the metafiles), ``targets``,
``report`` and ``markdown``. No module outside this package imports it.
"""
from .flops import count_flops, count_macs, count_params, model_flops
from .inference import measure_inference
from .inputs import calibrate_batchnorm, predict_batch
from .published import Published, published, published_numbers
from .report import add_ratios, plot, to_markdown, write_outputs
from .run import common_task, run_benchmark
from .settings import BenchmarkSettings, Mode, default_settings, parse_mode
from .targets import check_targets, load_targets
from .timing import time_calls
from .training import measure_training

__all__ = [
    'count_flops', 'count_macs', 'count_params', 'model_flops', 'measure_inference',
    'calibrate_batchnorm', 'predict_batch', 'Published', 'published', 'published_numbers',
    'add_ratios', 'plot', 'to_markdown', 'write_outputs', 'common_task', 'run_benchmark',
    'BenchmarkSettings', 'Mode', 'default_settings', 'parse_mode', 'check_targets', 'load_targets',
    'time_calls', 'measure_training'
]
