"""Experiments on the demo data at equal training time: models trained through the Runner for the
same wall-clock budget (iterations set from a short timed run of each), then scored per class.

``tools/experiment_streets.py`` is the command line (docs/en/experiments.md). The schedule of each
config (``max_iters``, the poly LR's end, checkpoint and val intervals) is rewritten for the
iterations that fit the budget, so every model gets a complete schedule.
"""
import glob
import json
import os.path as osp
import time
from statistics import median
from typing import Dict, List, Optional, Sequence

__all__ = [
    'THIN_CLASSES', 'schedule_options', 'seconds_per_iter', 'train_for', 'per_class_scores',
    'compare_at_equal_time', 'comparison_markdown'
]

#: the thin and small classes of the spatial-detail experiment (Cityscapes names)
THIN_CLASSES = ('pole', 'traffic light', 'traffic sign', 'person', 'bicycle')


def schedule_options(iters: int, logger_interval: int = 10) -> Dict[str, object]:
    """``--cfg-options`` that give a config of configs/experiments/ a schedule of ``iters``."""
    if iters <= 20:
        raise ValueError(f'iters={iters}: the schedule warms up for 20 iterations; give more')
    return {
        'max_iters': iters,
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters,
        'param_scheduler.1.end': iters,
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.logger.interval': logger_interval,
    }


def _train(config: str, work_dir: str, options: Dict[str, object], amp: bool):
    from ..apis.config import load_config
    from ..apis.runner import train
    cfg = load_config(config, work_dir=work_dir, cfg_options=options, amp=amp)
    # a visualizer of its own: mmengine reuses an instance of the same name, which would write
    # this run's scalars into an earlier run's folder
    cfg.visualizer['name'] = f'visualizer_{time.time_ns()}'
    start = time.perf_counter()
    train(cfg)
    return time.perf_counter() - start


def _logged_iter_times(work_dir: str) -> List[float]:
    files = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(f'no scalars.json under {work_dir}/*/vis_data: the run logged '
                                'nothing')
    times = []
    with open(files[-1]) as f:
        for line in f:
            entry = json.loads(line)
            if 'time' in entry and 'loss' in entry:
                times.append(entry['time'])
    return times


def seconds_per_iter(config: str, work_dir: str, amp: bool = True, iters: int = 40) -> float:
    """Seconds per training iteration of ``config``: the median of the Runner's logged iteration
    times over a short run of ``iters`` (logged every 10; the first entry, warm-up, left out)."""
    _train(config, work_dir, schedule_options(iters), amp)
    times = _logged_iter_times(work_dir)
    if len(times) < 2:
        raise RuntimeError(f'{work_dir}: {len(times)} logged iteration times from {iters} '
                           'iterations; need at least 2')
    return median(times[1:])


def train_for(config: str, work_dir: str, seconds: float, amp: bool = True,
              seconds_per_iteration: Optional[float] = None,
              calibration_iters: int = 40) -> Dict[str, object]:
    """Train ``config`` for about ``seconds`` of training: the iterations that fit at
    ``seconds_per_iteration`` (measured by :func:`seconds_per_iter` when not given), with the
    whole schedule. Returns the iterations, the seconds per iteration they were set from, the
    training time (median logged iteration time x iterations), the wall time of the run
    (start-up and the final validation included) and its last checkpoint."""
    s_iter = seconds_per_iteration or seconds_per_iter(config, osp.join(work_dir, 'calibration'),
                                                       amp, calibration_iters)
    iters = max(int(seconds / s_iter), 21)
    wall = _train(config, work_dir, schedule_options(iters), amp)
    checkpoint = osp.join(work_dir, f'iter_{iters}.pth')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'{config}: training for {iters} iterations left no {checkpoint}')
    logged = _logged_iter_times(work_dir)  # the Runner's per-iteration times, every 10th
    return dict(config=config, iters=iters, seconds_per_iter=s_iter,
                train_seconds=median(logged) * iters, wall_seconds=wall, checkpoint=checkpoint,
                amp=amp)


def per_class_scores(config: str, checkpoint: str, images: str, labels: str) -> Dict[str, object]:
    """mIoU and per-class IoU of ``checkpoint`` on ``images`` / ``labels`` (Cityscapes layout),
    each image at its full resolution through the config's own preprocessing (what tools/test.py
    scores; :func:`drn_mm.evaluation.synthesis.score_images`, protocol 'full-res')."""
    from ..apis.model import init_segmentor
    from ..evaluation.synthesis import score_images
    model = init_segmentor(config, checkpoint)
    result = score_images(model, images, labels, protocol='full-res', normalization='config',
                          checkpoint=checkpoint)
    return dict(mIoU=result['mIoU'], per_class_iou=result['per_class_iou'])


def compare_at_equal_time(configs: Sequence[str], seconds: float, out_dir: str, images: str,
                          labels: str, amp: bool = True, log=print) -> List[Dict[str, object]]:
    """Train each config for ``seconds`` (:func:`train_for`) and score it per class; writes
    ``out_dir/results.json`` after every model and returns the rows. Every config's speed is
    measured first, one after the other in a short run each, before any long training: the
    iterations of all models come from the same minutes of the machine."""
    from ..apis.config import config_name
    names = [config_name(c) for c in configs]
    speeds = {}
    for config, name in zip(configs, names):
        speeds[name] = seconds_per_iter(config, osp.join(out_dir, name, 'calibration'), amp)
        log(f'{name}: {speeds[name]:.3f} s per iteration -> {int(seconds / speeds[name])} '
            f'iterations in {seconds:.0f} s')
    rows = []
    for config, name in zip(configs, names):
        row = train_for(config, osp.join(out_dir, name), seconds, amp, speeds[name])
        row.update(per_class_scores(config, row['checkpoint'], images, labels), name=name)
        log(f'{name}: {row["iters"]} iterations, mIoU {row["mIoU"]:.2f}')
        rows.append(row)
        with open(osp.join(out_dir, 'results.json'), 'w') as f:
            json.dump(rows, f, indent=1)
    return rows


def comparison_markdown(rows: Sequence[Dict[str, object]],
                        classes: Sequence[str] = THIN_CLASSES) -> str:
    """The rows of :func:`compare_at_equal_time` as a markdown table: iterations, seconds per
    iteration, training time, mIoU and the IoU of ``classes`` (a class absent from the labels
    shows as n/a)."""

    def iou(row, name):
        value = row['per_class_iou'].get(name)
        return 'n/a' if value is None else f'{value:.1f}'

    head = ['model', 'iterations', 's / iter', 'training s', 'run s', 'mIoU'] + list(classes)
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in rows:
        cells = [
            row['name'],
            str(row['iters']), f"{row['seconds_per_iter']:.3f}", f"{row['train_seconds']:.0f}",
            f"{row['wall_seconds']:.0f}", f"{row['mIoU']:.2f}"
        ] + [iou(row, name) for name in classes]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
